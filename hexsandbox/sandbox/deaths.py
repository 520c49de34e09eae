"""Deaths: a worker that ended, broke the protocol or must be killed.

Mixed into :class:`hexsandbox.sandbox.core.Sandbox` (main thread only).
What the user reads is decided by :mod:`hexsandbox.endings`, when a crashed
script starts again by :mod:`hexsandbox.restart_policy`; this module does
the bookkeeping around them, once per worker.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, List, Optional

from .. import endings, spawning
from ..restart_policy import RestartPolicy, next_restart, window_text
from .records import SandboxError, Script, State

if TYPE_CHECKING:  # pragma: no cover
    from ..backend import Backend
    from ..rpc import messages as M


class Deaths:
    """Reaping, dropping and restarting workers."""

    backend: "Backend"
    scripts: List[Script]
    restart: Optional[RestartPolicy]
    memory_limit_mb: int
    _alive: List[Script]
    _closing: bool

    if TYPE_CHECKING:  # provided by the Sandbox (the other mixins or core)
        def report(self, script: Script, kind: str, text: str,
                   details: Optional[List[str]] = None) -> None:  # pragma: no cover
            raise NotImplementedError

        def load(self, path: str, *, deadline_ms: Optional[int] = None,
                 python: Optional[str] = None,
                 hooks_async: bool = False) -> Script:  # pragma: no cover
            raise NotImplementedError

        def _handle(self, script: Script, msg: "M.Message") -> None:  # pragma: no cover
            raise NotImplementedError

        def _drop_hooks(self, script: Script) -> None:  # pragma: no cover
            raise NotImplementedError

    def _reap_if_ended(self, script: Script, timeout: float) -> None:
        """The worker closed its socket while we waited for it: it is
        exiting. Reap it now (bounded wait), so that what follows -- the
        next event, a barrier -- finds it dead, as it was in process."""
        if script.dead or script.worker is None:
            return
        script.worker.process.join(max(0.0, timeout))
        if not script.worker.process.is_alive():
            self._reap(script)

    def _reap(self, script: Script) -> None:
        """The worker process ended: clean up and say what happened, once,
        in one line (``endings``); only a crash after a good load restarts."""
        if script.dead:
            return  # reaped already (while a hook waited for it, or at shutdown)
        self._serve_rest(script)
        self._mark_dead(script)
        self._drop_hooks(script)
        if script.external:
            self._end_external(script)
            return
        if script.state is State.FAILED or (script.state is State.STOPPED and not script.life.intent):
            self._forget(script)  # the worker, or _drop_broken, has said why
            return
        tail = script.life.stderr_tail
        ending = endings.describe(script.label, script.path, life=script.life,
                                  loaded=script.state is not State.STARTING,
                                  exitcode=script.exitcode, tail=tail,
                                  memory_limit_mb=self.memory_limit_mb)
        if not ending.restartable:
            script.state = State.STOPPED if script.life.intent else State.FAILED
            if ending.kind:
                self.report(script, ending.kind, ending.text, tail)
            if script.life.intent:
                self._forget(script)
            return
        script.state = State.CRASHED
        self._maybe_restart(script, ending.text, tail)

    def _end_external(self, script: Script) -> None:
        """An external application's connection ended: quietly when it left
        (its ``unloaded`` note), was unloaded or revoked, or broke the
        protocol (said already); otherwise told once. Never restarted."""
        quiet = script.state in (State.STOPPED, State.FAILED) or bool(script.life.intent)
        if not quiet:
            self.report(script, "crash", f"hexsandbox: application {script.label} disconnected; "
                                         "its hooks were removed.")
        script.state = State.STOPPED if quiet else State.CRASHED
        self._forget(script)

    def _serve_rest(self, script: Script) -> None:
        """Everything a dead worker sent before dying, served in order."""
        session = script.session
        while session is not None and not script.dead:
            msg = session.pop_inbox()
            if msg is None:
                break
            self._handle(script, msg)

    def _mark_dead(self, script: Script) -> None:
        if script.dead:
            return
        script.dead = True
        if script in self._alive:
            self._alive.remove(script)
        if script.worker is not None and not script.external:
            spawning.ended(script.worker)  # its group too: nothing it started lives on
            script.exitcode = script.worker.process.exitcode
            script.life.stderr_tail = spawning.stderr_tail(script.worker.stderr_path, lines=40)
            try:
                os.unlink(script.worker.stderr_path)
            except OSError:
                pass
        if script.session is not None:
            script.session.close("the worker is gone")
        if script.worker is not None:
            try:
                script.worker.conn.close()
            except OSError:
                pass
        script.late_call = None

    def _drop_broken(self, script: Script) -> None:
        """A worker broke the protocol (bad bytes, oversized or unfinished
        frame, ignored flow control): stop it, and say why once."""
        if script.dead or script.state is State.STOPPED or script.session is None:
            return
        why = script.session.broken or "broke the protocol"
        self.report(script, "protocol", f"hexsandbox: {script.label} {why}; it was stopped.")
        script.state = State.STOPPED  # reported here; the reaper stays quiet
        self._drop_hooks(script)
        self._stop(script)

    def _stop(self, script: Script) -> None:
        """End a worker: kill its process group; an external application's
        connection is closed instead (its process is not ours to kill)."""
        if script.worker is None:
            return
        if script.external:
            peer: Any = script.worker  # remote.service.AppConnection (Sandbox.attach)
            peer.disconnect()
        else:
            spawning.kill(script.worker)

    def _kill_if_alive(self, script: Script) -> bool:
        if not script.dead and script.worker is not None:
            if script.state is State.UNLOADING:
                script.life.stopped_after_grace = True
            self._stop(script)
        return False

    def _forget(self, script: Script) -> None:
        if script in self.scripts and script.dead:
            self.scripts.remove(script)

    def _maybe_restart(self, script: Script, text: str, details: List[str]) -> None:
        """Report the crash in one line, with what happens next."""
        policy = self.restart
        script.crash_times, plan = next_restart(policy, script.crash_times, time.monotonic())
        again_how = f"/sandbox restart {script.label} starts it again"
        if plan is None:
            if policy is None:
                self.report(script, "crash", f"{text}; {again_how}.", details)
            else:
                self.report(script, "crash",
                            f"{text}; it crashed {len(script.crash_times)} times in "
                            f"{window_text(policy)}, so it stays stopped: {again_how}.", details)
            return
        delay, attempt = plan
        self.report(script, "crash", f"{text}; restarting in {delay / 1000:g} s "
                    f"({attempt} of {policy.max_restarts if policy else 0})", details)

        def again() -> bool:
            if not self._closing and script in self.scripts and script.state is State.CRASHED:
                self.scripts.remove(script)
                try:
                    fresh = self.load(script.path, deadline_ms=script.deadline_ms,
                                      python=script.python, hooks_async=script.hooks_async)
                except SandboxError as exc:  # its file is gone, say; not retried
                    self.report(script, "failed", f"hexsandbox: {exc}")
                    return False
                fresh.crash_times = script.crash_times
            return False

        self.backend.hook_timer(delay, again)
