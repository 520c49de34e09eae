"""The sandbox: one worker per script, one serialising dispatcher.

Threads in the client (inside HexChat, or beside the emulator):

* the backend's **main thread** (HexChat's GTK thread) does every backend
  call: it serves worker requests, registers hooks, and runs hook callbacks,
  which it forwards to the worker and waits for, with a deadline
  (:mod:`.hooks`);
* one **dispatcher thread** (:mod:`.dispatcher`) reads every worker socket
  and asks the main thread (``backend.call_soon``) to serve what arrived. It
  never calls the backend API itself.

Per worker the inbox is FIFO and served in order, so one-way calls stay in
order with that worker's two-way calls. Serving is budgeted per main-loop
turn by time and bytes (``SERVE_BUDGET_S``, ``SERVE_BUDGET_BYTES``), then
HexChat gets the loop back.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

from .. import dispatch, endings, process_tree, spawning
from ..api_table import CALLS, CONTROL_NOTES, Call
from ..backend import Backend
from ..environments.hints import missing_module_hint
from ..perl import client as perl_client
from ..perl.process import is_perl_script
from ..rpc import messages as M
from ..rpc.session import SessionClosed
from ..spinwait import default_spin_us
from .dispatcher import INBOX_PAUSE_BYTES, Dispatcher
from .deaths import Deaths
from .hooks import HookForwarding
from .records import Report, RestartPolicy, SandboxError, Script, State
from .starting import MAX_FRAME_FROM_WORKER, SEND_TIMEOUT_S, Starting  # noqa: F401 (limits named here too: rpc.docs)

#: Work per main-loop turn for one worker before HexChat gets the loop back.
SERVE_BUDGET_S = 0.005
SERVE_BUDGET_BYTES = 256 * 1024
#: A worker that used a whole turn's budget rests this many times as long.
REST_FACTOR = 9



class Sandbox(Starting, HookForwarding, Deaths):
    """Runs HexChat scripts in worker processes against a :class:`Backend`.

    All public methods are called on the backend's main thread.
    """

    def __init__(self, backend: Backend, *, python: Optional[str] = None,
                 deadline_ms: int = 500, memory_limit_mb: int = 0,
                 restart: Optional[RestartPolicy] = None,
                 on_report: Optional[Callable[[Report], None]] = None,
                 spin_us: Optional[int] = None, extra_calls: Sequence[Call] = (),
                 start: Optional[str] = None) -> None:
        self.backend = backend
        #: How Python workers start: "zygote" or "spawn" (None: spawning.start_mode's default).
        self.start = start
        #: API rows beyond the table's (a backend method serves each): both
        #: sides are generated from them, as from the table's own rows.
        self.extra_calls = tuple(extra_calls)
        #: Poll pipes this long before sleeping on them (None: spinwait's default).
        self.spin_us = default_spin_us() if spin_us is None else spin_us
        self.python = python
        self.deadline_ms = deadline_ms
        self.memory_limit_mb = memory_limit_mb
        self.restart = restart
        self.on_report = on_report
        self.scripts: List[Script] = []
        self.reports: List[Report] = []
        #: Every script whose worker may still run (reloaded-away copies too).
        self._alive: List[Script] = []
        self._closing = False
        self._handlers = (dispatch.build_handlers(CALLS + self.extra_calls) if self.extra_calls
                          else dispatch.HANDLERS)
        self._runtime_dir = spawning.private_runtime_dir()
        self._dispatcher = Dispatcher(
            on_readable=self._schedule,
            on_died=lambda script: backend.call_soon(lambda: self._reap(script)),
            on_broken=lambda script: backend.call_soon(lambda: self._drop_broken(script)),
            on_due=self._serve_due)
        spawning.acquire()
        # Workers learn at once when a tab closes, so their one-way Context
        # calls on it fail as they do in process (notice + RuntimeError).
        self._close_hook = backend.hook_print("Close Context", 127, self._context_closed, False)

    # ================================================================ public
    def unload(self, script: Script, *, grace_ms: int = endings.UNLOAD_GRACE_MS,
               intent: str = endings.UNLOAD) -> None:
        """Run the script's unload hooks in its worker, then let it exit.

        Its hooks stop at once, and nothing it sent before it learns of the
        unload runs (its inbox is dropped, and so is what is still on the
        way, up to its ``unloading`` note). A worker that has not exited
        after ``grace_ms`` is killed.
        """
        if script.state in (State.STOPPED, State.FAILED, State.CRASHED) or script.dead:
            self._forget(script)
            return
        script.life.intent = intent
        if script.state is State.STARTING and script.worker is None:
            # Still being started in the background: it never ran a line,
            # and the fresh worker is ended as soon as it comes (starting).
            script.state, script.dead = State.STOPPED, True
            self._forget(script)
            return
        if script.state is State.STARTING and script.worker is not None:
            # Not loaded yet, so no unload hook of its can have run in
            # process either: cancel the load (quietly, as intended).
            self._drop_hooks(script)
            script.state = State.UNLOADING
            self._stop(script)
            return
        if self._begin_unload(script):
            self.backend.hook_timer(grace_ms, lambda: self._kill_if_alive(script))

    def find(self, name: str) -> Optional[Script]:
        """A script by module name, file name or path (as /py unload does)."""
        for script in self.scripts:
            if name in (script.name, script.path, os.path.basename(script.path)):
                return script
        return None

    def stack(self, script: Script, timeout: float = 1.0) -> str:
        """The Python stacks of every thread of the script's worker.

        Asks the worker's receiver thread (works while a callback spins or
        sleeps); if that does not answer in time, makes ``faulthandler``
        write the stacks to the worker's stderr file and reads them there.
        """
        if script.dead or script.worker is None:
            raise SandboxError(f"{script.label} is not running")
        reply = self._request(script, M.STACK, [], timeout)
        if reply is not None and reply.error is None and isinstance(reply.result, str):
            return reply.result
        if script.external:
            raise SandboxError(f"{script.label} did not answer with its stack")
        before = os.path.getsize(script.worker.stderr_path)
        spawning.kill(script.worker, spawning.signal.SIGUSR1)
        _wait_for_growth(script.worker.stderr_path, before, timeout)
        with open(script.worker.stderr_path, "rb") as f:
            f.seek(before)
            return f.read().decode("utf-8", "replace")

    def run_in_worker(self, script: Script, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` (shipped with cloudpickle) on the worker's callback
        thread and return its plain-data result. For tests and tools: it also
        acts as a barrier behind every callback queued before it."""
        import cloudpickle

        if script.dead or script.session is None or not script.session.alive:
            raise SandboxError(f"{script.label} is not running")
        reply = self._request(script, M.RUN, [cloudpickle.dumps(fn)], timeout)
        if reply is None:
            if script.session.alive:
                raise TimeoutError(f"{script.label} did not answer within {timeout} s")
            raise SandboxError(f"{script.label} is not running")
        if reply.error is not None:
            raise SandboxError(f"{script.label}: {reply.error[1]}")
        return reply.result

    def kill(self, script: Script) -> None:
        """Kill the script's worker now (its death is reaped as usual)."""
        self._kill_if_alive(script)

    def shutdown(self, timeout: float = 0.5) -> None:
        """Unload every script and wait (serving their calls) until their
        workers exit; kill what is left at the deadline. Called when HexChat
        unloads the client or quits: HexChat must be gone within 1 s of the
        user quitting, whatever the workers do, so the budget is short."""
        try:
            end = time.monotonic() + timeout
            everyone = self.scripts + [s for s in self._alive if s not in self.scripts]
            now = time.monotonic()
            for script in everyone:
                script.life.intent = endings.QUIT
                if script.worker is None or script.dead:
                    continue
                # Stuck in a callback, not kept up with (its unload would queue
                # behind its events) or SIGSTOPped: it would not unload in time.
                if (script.late or not script.slow.should_wait(now, script.deadline_ms / 1000.0)
                        or process_tree.is_stopped(script.worker.pid)):
                    self._stop(script)
                elif script.state in (State.STARTING, State.RUNNING):
                    self._begin_unload(script)
            for script in everyone:
                session = script.session
                while session is not None and not script.dead and session.alive:
                    left = end - time.monotonic()
                    if left <= 0:
                        break
                    if script.worker is not None and not script.worker.process.is_alive():
                        self._mark_dead(script)  # exited: what it still queued (a flood) is moot
                        break
                    msg = session.wait(None, min(left, 0.05))
                    if msg is not None:
                        self._handle(script, msg)
            for script in everyone:
                if script.worker is not None and not script.dead:
                    if script.session is not None and script.session.alive:
                        self._stop(script)
                    self._mark_dead(script)
            self.backend.unhook(self._close_hook)
            self._closing = True
            self._dispatcher.close()
        finally:  # whatever went wrong above, nothing is left behind
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            spawning.release()

    def log(self, script: Script) -> List[str]:
        """``/sandbox log NAME``: the script's last reports and the last lines
        its worker wrote to stderr (kept after the worker's file is gone)."""
        tail = script.life.stderr_tail
        if not script.dead and script.worker is not None:
            tail = spawning.stderr_tail(script.worker.stderr_path, lines=20)
        return endings.log_lines(self.reports, script.label, tail)

    def report(self, script: Script, kind: str, text: str,
               details: Optional[List[str]] = None) -> None:
        """Tell the user, once, in the tab they are looking at."""
        report = Report(script.label, kind, text, list(details or []))
        self.reports.append(report)
        if self.on_report is not None:
            self.on_report(report)
            return
        backend = self.backend
        previous = backend.get_context()
        backend.set_context(backend.front_context())
        backend.prnt(text)
        backend.set_context(previous)

    # ========================================================= main thread
    def _owner_done(self, script: Script) -> None:
        """The main thread stopped reading this worker's socket itself:
        serve what it read past its answer, and give the socket back."""
        session = script.session
        if session is not None and session.inbox:
            self._schedule(script)
        if session is not None and session.reader.partial_since is not None:
            self._dispatcher.wake()  # it times unfinished frames
        if not script.give_back_queued:  # one is enough for a burst of hooks
            script.give_back_queued = True
            self.backend.call_soon(lambda: self._give_back(script))

    def _give_back(self, script: Script) -> None:
        """Hand the socket back to the dispatcher when HexChat is idle, not
        after every event: in a burst of hooks the main thread keeps reading
        it itself and no thread is woken in between."""
        script.give_back_queued = False
        session = script.session
        if session is not None and session.inbox_bytes <= INBOX_PAUSE_BYTES and session.resume():
            self._dispatcher.rewatch(script)

    def _schedule(self, script: Script) -> None:
        """Serve the script's inbox on the main thread soon (any thread)."""
        if script.scheduled:
            return
        script.scheduled = True
        if time.monotonic() < script.rest_until:
            self._dispatcher.serve_at(script, script.rest_until)
        else:
            self.backend.call_soon(lambda: self._serve(script))

    def _serve_due(self, script: Script) -> None:
        """A flooding script's rest is over (dispatcher thread)."""
        self.backend.call_soon(lambda: self._serve(script))

    def _serve(self, script: Script) -> None:
        """Serve what the worker sent, in order, within this turn's budget."""
        script.scheduled = False
        session = script.session
        if session is None:
            return
        start = time.monotonic()
        end = start + SERVE_BUDGET_S
        first_byte = session.popped_bytes
        while True:
            msg = session.pop_inbox()
            if msg is None:
                break
            self._handle(script, msg)
            if isinstance(msg, M.Notification) and msg.method == "loading":
                self._serve_load(script)
                start, end = time.monotonic(), time.monotonic() + SERVE_BUDGET_S
                first_byte = session.popped_bytes
                continue
            now = time.monotonic()
            if now > end or session.popped_bytes - first_byte > SERVE_BUDGET_BYTES:
                # A flood: it rests REST_FACTOR times as long as this turn
                # took before it is served again, so HexChat's main loop is
                # never kept busy by one worker (busy all the time, it also
                # loses the OS scheduler's favour on a loaded machine).
                script.rest_until = now + (now - start) * REST_FACTOR
                if session.inbox:
                    self._schedule(script)
                break
        if session.paused:
            self._give_back(script)

    def _handle(self, script: Script, msg: M.Message) -> None:
        session = script.session
        assert session is not None
        if isinstance(msg, M.Response):
            self._late_reply(script, msg)
            return
        if isinstance(msg, M.Notification):
            if script.discarding and msg.method != "unloading":
                return
            try:
                self._call(script, msg.method, msg.ctx, msg.args)
            except Exception as exc:
                self.report(script, "error",
                            f"hexsandbox: {script.label}: {msg.method}() failed: {exc}")
            return
        if script.discarding:
            error: Optional[List[str]] = ["RuntimeError", "hexsandbox: the script is being unloaded"]
            result = None
        else:
            error = None
            try:
                result = self._call(script, msg.method, msg.ctx, msg.args)
            except dispatch.CallError as exc:
                error, result = [exc.exc_type, exc.message], None
            except Exception as exc:  # a backend failure must not kill the client
                error, result = _failure(msg.method, exc), None
        try:
            session.respond(msg.msgid, error, result)
        except SessionClosed:
            pass

    def _call(self, script: Script, method: str, ctx: Optional[int], args: List[Any]) -> Any:
        control = _CONTROL_NOTES.get(method)
        if control is not None:
            return control(self, script, args)
        handlers = perl_client.HANDLERS if is_perl_script(script.path) else self._handlers
        handler = handlers.get(method)
        if handler is None:
            raise dispatch.CallError("AttributeError", f"hexsandbox: unknown call {method!r}")
        return handler(self, script, ctx, args)

    def _request(self, script: Script, method: str, args: List[Any],
                 timeout: float) -> Optional[M.Response]:
        """A client -> worker request, waited for on the main thread while
        serving the worker's other messages. None on timeout or death."""
        session = script.session
        if session is None:
            return None
        try:
            msgid = session.send_request(method, None, args)
        except SessionClosed:
            return None
        end = time.monotonic() + timeout
        reply = session.wait(msgid, timeout, lambda msg: self._handle(script, msg))
        if reply is None:
            session.abandon(msgid)
            if session.eof:
                self._reap_if_ended(script, end - time.monotonic())
            return None
        assert isinstance(reply, M.Response)
        return reply

    def _begin_unload(self, script: Script) -> bool:
        """Stop the script's hooks, drop what it queued, ask it to unload.
        False if it is already gone."""
        self._drop_hooks(script)
        script.state = State.UNLOADING
        script.discarding = True
        self._discard_inbox(script)
        return self._notify(script, M.UNLOAD, None, [])

    def _discard_inbox(self, script: Script) -> None:
        session = script.session
        while session is not None:
            msg = session.pop_inbox()
            if msg is None:
                break
            self._handle(script, msg)  # discarding: requests get an error, notes are dropped

    # ----------------------------------------------------- bookkeeping notes
    def _note_loaded(self, script: Script, args: List[Any]) -> None:
        name, version, description = (str(a) for a in (args + ["", "", ""])[:3])
        script.name, script.version, script.description = name, version, description
        if script.state is State.STARTING:
            script.state = State.RUNNING
            script.gui = self.backend.plugingui_add(script.path, name, description, version)

    def _note_load_failed(self, script: Script, args: List[Any]) -> None:
        script.load_error = str(args[0]) if args else "failed to load"
        script.state = State.FAILED
        self._drop_hooks(script)
        hint = missing_module_hint(script.load_error, os.path.basename(script.path))
        if hint:
            self.report(script, "hint", hint)

    def _note_timer_done(self, script: Script, args: List[Any]) -> None:
        if len(args) != 2 or type(args[0]) is not int:
            raise dispatch.CallError("TypeError", "timer_done takes (hook_id, keep)")
        hook_id, keep = args
        script.timers_due.discard(hook_id)
        if not keep:
            self.remove_hook(script, hook_id)

    def _note_unloading(self, script: Script, args: List[Any]) -> None:
        script.discarding = False  # from here on: the unload hooks' own calls

    def _note_unloaded(self, script: Script, args: List[Any]) -> None:
        script.state = State.STOPPED


_CONTROL_NOTES: Dict[str, Callable[[Sandbox, Script, List[Any]], Any]] = {
    "loading": lambda sandbox, script, args: None,  # served by Sandbox._serve_load
    "loaded": Sandbox._note_loaded,
    "load_failed": Sandbox._note_load_failed,
    "timer_done": Sandbox._note_timer_done,
    "unloading": Sandbox._note_unloading,
    "unloaded": Sandbox._note_unloaded,
}
assert set(_CONTROL_NOTES) == set(CONTROL_NOTES), "every control note of the table has a handler"


def _failure(method: str, exc: Exception) -> List[str]:
    """What the worker should raise for a backend exception: the same type
    and message where it is a plain builtin (``KeyError('list not
    available')`` from get_list), else RuntimeError naming the call."""
    name = type(exc).__name__
    if name in M.RAISABLE and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return [name, exc.args[0]]
    return ["RuntimeError", f"{method}: {exc}"]


def _wait_for_growth(path: str, size: int, timeout: float) -> None:
    """Wait (bounded) for faulthandler's dump to land in the stderr file.

    A signal handler gives no completion event, so this polls the file size
    in short steps; it is used only when the worker cannot answer at all.
    """
    end = time.monotonic() + timeout
    last = size
    while time.monotonic() < end:
        time.sleep(0.02)
        current = os.path.getsize(path)
        if current > size and current == last:
            return
        last = current
