"""Starting scripts: a worker per script, loaded atomically or in the background.

Two ways to load, because two users meet them:

* **atomic** (``/load``, ``/sandbox load``, a reload, a restart): HexChat's
  main loop waits while the script's top level runs, at most its deadline,
  as in process, so nothing comes between the script's load output and
  HexChat's own "loaded" or "Failed to load module" line;
* **background** (autoload at HexChat's start): nothing waits. The worker is
  started as a job on spawning's long-lived spawner thread
  (``spawning.submit``, the thread every spawn off the main thread goes
  through anyway, so one hand-off), the result is handed back to the main
  thread (``backend.call_soon``), and its load-time calls are served as they
  come, like any other traffic, within the per-turn budget. Thirty scripts
  autoloaded at start would otherwise hold HexChat's window frozen for as
  long as their top levels run one after another (issue 14: at most 50 ms
  in all). Nothing is lost by it: at start HexChat is not yet connected, and
  the loader says in one line when every autoloaded script has settled.
  Nothing of it is closed with the Sandbox (the spawner thread is a daemon
  every Sandbox shares, so quit never waits on it); a worker that comes back
  after ``close()`` or after its script was unloaded is ended at once.
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from .. import endings, spawning
from ..rpc import messages as M
from ..rpc import trace
from ..rpc.session import Session
from .records import SandboxError, Script, State

if TYPE_CHECKING:  # pragma: no cover
    from ..api_table import Call
    from ..backend import Backend
    from .dispatcher import Dispatcher

#: The largest message a worker may send (a bigger one drops it at once):
#: far above any real call (IRC lines are 512 bytes, pluginprefs 512), small
#: enough that the worst body to decode (256 KiB of empty arrays) takes
#: ~45 ms, well inside a hook's deadline (benchmarks/codec.py).
MAX_FRAME_FROM_WORKER = 256 * 1024

#: How long the client waits for room in a worker's socket before it
#: decides the worker stopped reading and drops it.
SEND_TIMEOUT_S = 1.0


class Starting:
    """Mixed into :class:`hexsandbox.sandbox.core.Sandbox` (main thread only)."""

    backend: "Backend"
    scripts: List[Script]
    deadline_ms: int
    python: Optional[str]
    memory_limit_mb: int
    spin_us: int
    extra_calls: Tuple["Call", ...]
    start: Optional[str]  # "zygote" | "spawn" | None (spawning.start_mode)
    _alive: List[Script]
    _closing: bool
    _runtime_dir: str
    _dispatcher: "Dispatcher"

    if TYPE_CHECKING:  # provided by the Sandbox (the other mixins or core)
        def report(self, script: Script, kind: str, text: str) -> None:  # pragma: no cover
            raise NotImplementedError

        def unload(self, script: Script, *, grace_ms: int = ...,
                   intent: str = ...) -> None:  # pragma: no cover
            raise NotImplementedError

        def _handle(self, script: Script, msg: M.Message) -> None:  # pragma: no cover
            raise NotImplementedError

        def _owner_done(self, script: Script) -> None:  # pragma: no cover
            raise NotImplementedError

    # ================================================================ public
    def load(self, path: str, *, deadline_ms: Optional[int] = None,
             python: Optional[str] = None, hooks_async: bool = False,
             background: bool = False) -> Script:
        """Start ``path`` in a new worker. Returns at once; the script's
        ``state`` leaves STARTING when it has loaded or failed.

        ``hooks_async``: HexChat never waits for this script's hooks; their
        events reach it one-way and its eat values are ignored (issue 14,
        docs/architecture.md "Asynchronous hooks").
        ``background``: never block HexChat's main loop for this load (the
        module docstring says when); a worker that cannot start is reported
        instead of raising SandboxError."""
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.isfile(path):
            raise SandboxError(f"no such script: {path}")
        if any(s.path == path and s.state in (State.STARTING, State.RUNNING)
               for s in self.scripts):
            raise SandboxError(f"{os.path.basename(path)} is already loaded")
        # A copy that crashed or could not start is replaced, not listed twice.
        self.scripts = [s for s in self.scripts if not (s.path == path and s.dead)]
        script = Script(path=path, deadline_ms=deadline_ms or self.deadline_ms,
                        python=python or self.python, hooks_async=hooks_async,
                        atomic=not background)
        if background:
            self._start_in_background(script)
        else:
            self._start(script)
        self.scripts.append(script)
        return script

    def reload(self, script: Script) -> Script:
        """Unload, then load the same file again in a fresh worker.

        The old worker leaves the script list at once (it finishes its unload
        hooks in the background), so names resolve to the fresh one."""
        if script.external:
            raise SandboxError(f"{script.label} is an external application: it reconnects itself")
        self.unload(script, intent=endings.RELOAD)
        if script in self.scripts:
            self.scripts.remove(script)
        return self.load(script.path, deadline_ms=script.deadline_ms, python=script.python,
                         hooks_async=script.hooks_async)

    def attach(self, name: str, peer: Any, *, deadline_ms: Optional[int] = None) -> Script:
        """Serve an external application (hexsandbox.remote) as a worker,
        under ``app:NAME``. ``peer`` is a ``remote.service.AppConnection``:
        it stands where a ``StartedWorker`` would, with no process of ours."""
        script = Script(path=f"app:{name}", deadline_ms=deadline_ms or self.deadline_ms,
                        python=None, name=name, description="external application",
                        state=State.RUNNING, external=True)
        script.worker = peer
        self._open_session(script, peer.conn, name)
        script.gui = self.backend.plugingui_add(script.path, name, script.description,
                                                "remote")  # no version: the window hides it
        self.scripts.append(script)
        return script

    # ========================================================= main thread
    def _spawn(self, script: Script, context: Optional[int]) -> spawning.StartedWorker:
        try:
            return spawning.start_worker(
                script.path, context=context, python=script.python,
                runtime_dir=self._runtime_dir, memory_limit_mb=self.memory_limit_mb,
                spin_us=self.spin_us, extra_calls=self.extra_calls, start=self.start)
        except OSError as exc:  # e.g. a configured Python that does not exist
            raise SandboxError(f"{script.label} could not start: {exc.strerror or exc} "
                               f"({script.python or spawning.default_python()})") from None

    def _start(self, script: Script) -> None:
        script.worker = self._spawn(script, self.backend.get_context())
        self._open_session(script, script.worker.conn, os.path.basename(script.path))

    def _start_in_background(self, script: Script) -> None:
        context = self.backend.get_context()

        def started(worker: Optional[spawning.StartedWorker],
                    error: Optional[BaseException]) -> None:
            if worker is None:
                script.state, script.dead = State.FAILED, True
                script.load_error = str(error)
                self.report(script, "failed", f"hexsandbox: {error}")
                return
            if self._closing or script.dead or script.state is not State.STARTING:
                # Unloaded (or HexChat quit) while it was being started.
                spawning.kill(worker)
                spawning.ended(worker)
                worker.conn.close()
                return
            script.worker = worker
            self._open_session(script, worker.conn, os.path.basename(script.path))

        # On the spawner thread: only hand the outcome on, HexChat's objects
        # are the main thread's (a failed start arrives as its exception).
        call_soon = self.backend.call_soon
        spawning.submit(lambda: self._spawn(script, context),
                        lambda worker, error: call_soon(lambda: started(worker, error)))

    def _open_session(self, script: Script, sock: socket.socket, peer: str) -> None:
        session = Session(sock, peer=peer, max_frame=MAX_FRAME_FROM_WORKER, acks=True,
                          send_timeout=SEND_TIMEOUT_S, spin_us=self.spin_us,
                          trace=trace.from_environment())
        session.on_owner_done = lambda: self._owner_done(script)
        script.session = session
        self._alive.append(script)
        self._dispatcher.watch(script)

    def _serve_load(self, script: Script) -> None:
        """An atomic load's top level runs: serve only this worker until it
        has loaded or failed, at most its deadline. In process /load blocks
        HexChat's main loop while the top level runs, so no timer or server
        line can come between a script's load output and "Failed to load
        module"; this keeps that order. Past the deadline HexChat goes on and
        the rest of the load is served as it comes, like any other traffic.
        A background load is never waited for."""
        session = script.session
        if not script.atomic:
            return
        end = time.monotonic() + script.deadline_ms / 1000.0
        while session is not None and script.state is State.STARTING and not script.dead:
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            msg = session.wait(None, remaining)
            if msg is None:
                return
            self._handle(script, msg)
