"""The sandbox client: one worker per script, one serialising dispatcher.

Threads in the client (inside HexChat, or beside the emulator):

* the backend's **main thread** (HexChat's GTK thread) does every backend
  call: it serves worker requests, registers hooks, and runs hook callbacks,
  which it forwards to the worker and waits for, with a deadline;
* one **dispatcher thread** waits on every worker pipe and process sentinel at
  once (``multiprocess.connection.wait``). It decodes what arrives with the
  plain-data codec, puts it in that worker's inbox and asks the main thread
  (``backend.call_soon``) to serve it. It never calls the backend API itself.

Per worker the inbox is FIFO and served in order, so one-way calls stay in
order with that worker's two-way calls. While the main thread waits for a
hook's answer it serves only that worker's inbox: nested calls (a callback's
``command()`` firing another of its hooks) work as in process.
"""

from __future__ import annotations

import enum
import itertools
import os
import queue
import selectors
import shutil
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

from . import codec, dispatch, endings, process_tree, slow_policy, spawning
from . import protocol as P
from .api_table import Call
from .backend import Backend
from .environments.hints import missing_module_hint
from .restart_policy import RestartPolicy, next_restart, window_text
from .spinwait import SpinWaiter, default_spin_us

# Markers the dispatcher thread puts in an inbox (never sent by a worker).
_DIED = -1
_BROKEN = -2

#: Messages served per turn of the main loop before yielding back to HexChat.
_SERVE_BUDGET = 256


class State(enum.Enum):
    STARTING = "starting"    # spawned, script loading
    RUNNING = "running"
    UNLOADING = "unloading"  # unload hooks running
    STOPPED = "stopped"      # unloaded cleanly
    FAILED = "failed"        # the script did not load
    CRASHED = "crashed"      # the worker died


@dataclass
class Report:
    """Something the user was told (also kept for ``/sandbox`` and tests)."""

    script: str
    kind: str     # 'crash' | 'failed' | 'stopped' | 'late' | 'error' | 'protocol'
    text: str
    details: List[str] = field(default_factory=list)  # for /sandbox log (stderr tail)


@dataclass
class Script:
    """Client-side record of one sandboxed script and its worker."""

    path: str
    deadline_ms: int
    python: Optional[str]
    name: str = ""
    version: str = ""
    description: str = ""
    state: State = State.STARTING
    worker: Optional[spawning.StartedWorker] = None
    inbox: "queue.SimpleQueue[tuple]" = field(default_factory=queue.SimpleQueue)
    scheduled: bool = False
    backend_hooks: Dict[int, object] = field(default_factory=dict)
    hook_names: Dict[int, str] = field(default_factory=dict)
    timers_due: Set[int] = field(default_factory=set)
    awaiting: Set[int] = field(default_factory=set)
    replies: Dict[int, tuple] = field(default_factory=dict)
    abandoned: Set[int] = field(default_factory=set)
    late_call: Optional[int] = None
    late_since: float = 0.0
    late_what: str = ""
    missed_events: int = 0
    late_count: int = 0
    crash_times: List[float] = field(default_factory=list)
    gui: Optional[object] = None
    dead: bool = False
    broken: bool = False  # sent an unreadable message; being dropped
    eof: bool = False     # its pipe reached end of file
    # While the main thread waits for this worker it reads the pipe itself
    # (saving a thread hand-off per message); the dispatcher pauses it then.
    read_lock: threading.Lock = field(default_factory=threading.Lock)
    direct_depth: int = 0
    paused: bool = False
    resume_scheduled: bool = False
    waiter: SpinWaiter = field(default_factory=SpinWaiter)  # the main thread's, see spinwait
    exitcode: Optional[int] = None
    load_error: str = ""
    life: endings.Life = field(default_factory=endings.Life)             # see endings
    slow: slow_policy.SlowRecord = field(default_factory=slow_policy.SlowRecord)

    @property
    def label(self) -> str:
        return self.name or os.path.basename(self.path)

    @property
    def pid(self) -> Optional[int]:
        return self.worker.pid if self.worker else None

    @property
    def late(self) -> bool:
        return self.late_call is not None

    def send(self, msg: tuple) -> bool:
        """Send to the worker; False if its pipe is gone (death is noticed
        through the sentinel, not here)."""
        if self.dead or self.worker is None:
            return False
        try:
            self.worker.conn.send_bytes(codec.encode(msg))
            return True
        except (OSError, ValueError):
            return False


class SandboxError(Exception):
    """A request to the sandbox that cannot be done (shown to the user)."""


class Sandbox:
    """Runs HexChat scripts in worker processes against a :class:`Backend`.

    All public methods are called on the backend's main thread.
    """

    def __init__(self, backend: Backend, *, python: Optional[str] = None,
                 deadline_ms: int = 500, memory_limit_mb: int = 0,
                 restart: Optional[RestartPolicy] = None,
                 on_report: Optional[Callable[[Report], None]] = None,
                 spin_us: Optional[int] = None) -> None:
        self.backend = backend
        #: Poll pipes this long before sleeping on them (None: spinwait's default).
        self.spin_us = default_spin_us() if spin_us is None else spin_us
        self.python = python
        self.deadline_ms = deadline_ms
        self.memory_limit_mb = memory_limit_mb
        self.restart = restart
        self.on_report = on_report
        self.scripts: List[Script] = []
        self.reports: List[Report] = []
        self._handlers = dispatch.HANDLERS
        self._ids = itertools.count(1)
        self._runtime_dir = spawning.private_runtime_dir()
        self._lock = threading.Lock()
        self._watched: List[Script] = []
        self._resume: List[Script] = []
        self._wake_r, self._wake_w = os.pipe()
        self._closing = False
        self._thread = threading.Thread(target=self._dispatch_forever,
                                        name="hexsandbox-dispatcher", daemon=True)
        self._thread.start()
        spawning.acquire()
        # Workers learn at once when a tab closes, so their one-way Context
        # calls on it fail as they do in process (notice + RuntimeError).
        self._close_hook = backend.hook_print("Close Context", 127, self._context_closed, False)

    # ================================================================ public
    def load(self, path: str, *, deadline_ms: Optional[int] = None,
             python: Optional[str] = None) -> Script:
        """Start ``path`` in a new worker. Returns at once; the script's
        ``state`` leaves STARTING when it has loaded or failed."""
        path = os.path.abspath(os.path.expanduser(path))
        if not os.path.isfile(path):
            raise SandboxError(f"no such script: {path}")
        if any(s.path == path and s.state in (State.STARTING, State.RUNNING)
               for s in self.scripts):
            raise SandboxError(f"{os.path.basename(path)} is already loaded")
        # A copy that crashed or could not start is replaced, not listed twice.
        self.scripts = [s for s in self.scripts if not (s.path == path and s.dead)]
        script = Script(path=path, deadline_ms=deadline_ms or self.deadline_ms,
                        python=python or self.python)
        self._start(script)
        self.scripts.append(script)
        return script

    def unload(self, script: Script, *, grace_ms: int = endings.UNLOAD_GRACE_MS,
               intent: str = endings.UNLOAD) -> None:
        """Run the script's unload hooks in its worker, then let it exit.

        Its hooks stop at once; a worker that has not exited after
        ``grace_ms`` is killed.
        """
        if script.state in (State.STOPPED, State.FAILED, State.CRASHED) or script.dead:
            self._forget(script)
            return
        starting = script.state is State.STARTING
        self._drop_hooks(script)
        script.state = State.UNLOADING
        script.life.intent = intent
        if starting and script.worker is not None:
            # Not loaded yet, so no unload hook of its can have run in
            # process either: cancel the load (quietly, as intended).
            spawning.kill(script.worker)
            return
        if not script.send((P.UNLOAD,)):
            return
        self.backend.hook_timer(grace_ms, lambda: self._kill_if_alive(script))

    def reload(self, script: Script) -> Script:
        """Unload, then load the same file again in a fresh worker.

        The old worker leaves the script list at once (it finishes its unload
        hooks in the background), so names resolve to the fresh one."""
        self.unload(script, intent=endings.RELOAD)
        if script in self.scripts:
            self.scripts.remove(script)
        return self.load(script.path, deadline_ms=script.deadline_ms, python=script.python)

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
        if script.dead:
            raise SandboxError(f"{script.label} is not running")
        call_id = next(self._ids)
        script.awaiting.add(call_id)
        script.send((P.STACK, call_id))
        reply = self._wait_reply(script, call_id, timeout)
        if reply is not None and reply[0] == P.REPLY and isinstance(reply[2], str):
            return reply[2]
        assert script.worker is not None
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

        call_id = next(self._ids)
        script.awaiting.add(call_id)
        if not script.send((P.RUN, call_id, cloudpickle.dumps(fn))):
            raise SandboxError(f"{script.label} is not running")
        reply = self._wait_reply(script, call_id, timeout)
        if reply is None:
            raise TimeoutError(f"{script.label} did not answer within {timeout} s")
        if reply[0] == P.FAIL:
            raise SandboxError(f"{script.label}: {reply[2]}")
        return reply[2]

    def shutdown(self, timeout: float = 0.5) -> None:
        """Unload every script and wait (serving their calls) until their
        workers exit; kill what is left at the deadline. Called when HexChat
        unloads the client or quits: HexChat must be gone within 1 s of the
        user quitting, whatever the workers do, so the budget is short."""
        try:
            end = time.monotonic() + timeout
            with self._lock:
                alive = list(self._watched)  # reloaded-away copies still unloading too
            everyone = self.scripts + [s for s in alive if s not in self.scripts]
            now = time.monotonic()
            for script in everyone:
                script.life.intent = endings.QUIT
                if script.worker is None or script.dead:
                    continue
                # Stuck in a callback, not kept up with (its UNLOAD would queue
                # behind its events) or SIGSTOPped: it would not unload in time.
                if (script.late or not script.slow.should_wait(now, script.deadline_ms / 1000.0)
                        or process_tree.is_stopped(script.worker.pid)):
                    spawning.kill(script.worker)
                elif script.state in (State.STARTING, State.RUNNING):
                    self._drop_hooks(script)
                    script.state = State.UNLOADING
                    script.send((P.UNLOAD,))
            for script in everyone:
                while not script.dead and time.monotonic() < end:
                    if script.worker is not None and not script.worker.process.is_alive():
                        self._mark_dead(script)  # exited: what it still queued (a flood) is moot
                        break
                    try:
                        msg = script.inbox.get(timeout=max(0.0, end - time.monotonic()))
                    except queue.Empty:
                        break
                    self._handle(script, msg)
            for script in everyone:
                if script.worker is not None and not script.dead:
                    spawning.kill(script.worker)
                    self._mark_dead(script)
            self.backend.unhook(self._close_hook)
            self._closing = True
            os.write(self._wake_w, b"x")
            self._thread.join(2.0)
            for fd in (self._wake_r, self._wake_w):
                os.close(fd)
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
    def _start(self, script: Script) -> None:
        try:
            script.worker = spawning.start_worker(
                script.path, context=self.backend.get_context(), python=script.python,
                runtime_dir=self._runtime_dir, memory_limit_mb=self.memory_limit_mb,
                spin_us=self.spin_us)
        except OSError as exc:  # e.g. a configured Python that does not exist
            raise SandboxError(f"{script.label} could not start: {exc.strerror or exc} "
                               f"({script.python or spawning.default_python()})") from None
        script.waiter = SpinWaiter(self.spin_us)
        with self._lock:
            self._watched.append(script)
        os.write(self._wake_w, b"x")

    def _schedule(self, script: Script) -> None:
        if not script.scheduled:
            script.scheduled = True
            self.backend.call_soon(lambda: self._serve(script))

    def _serve(self, script: Script) -> None:
        """Serve what the worker sent, in order (main thread)."""
        script.scheduled = False
        for _ in range(_SERVE_BUDGET):
            try:
                msg = script.inbox.get_nowait()
            except queue.Empty:
                return
            self._handle(script, msg)
        self._schedule(script)  # more left: let HexChat breathe first

    def _handle(self, script: Script, msg: tuple) -> None:
        kind = msg[0]
        if kind == P.REQUEST:
            _, call_id, method, ctx, args = msg
            try:
                reply: tuple = (P.REPLY, call_id, self._call(script, method, ctx, args))
            except dispatch.CallError as exc:
                reply = (P.FAIL, call_id, [exc.exc_type, exc.message])
            except Exception as exc:  # a backend failure must not kill the client
                reply = (P.FAIL, call_id, _failure(method, exc))
            script.send(reply)
        elif kind == P.NOTE:
            _, _, method, ctx, args = msg
            try:
                self._call(script, method, ctx, args)
            except Exception as exc:
                self.report(script, "error",
                            f"hexsandbox: {script.label}: {method}() failed: {exc}")
        elif kind in (P.REPLY, P.FAIL):
            self._late_reply(script, msg)
        elif kind == _DIED:
            self._reap(script)
        elif kind == _BROKEN:
            self._drop_broken(script, msg[1])

    def _call(self, script: Script, method: str, ctx: Optional[int], args: List[Any]) -> Any:
        control = _CONTROL_NOTES.get(method)
        if control is not None:
            return control(self, script, args)
        handler = self._handlers.get(method)
        if handler is None:
            raise dispatch.CallError("AttributeError", f"hexsandbox: unknown call {method!r}")
        return handler(self, script, ctx, args)

    def _wait_reply(self, script: Script, call_id: int, timeout: float) -> Optional[tuple]:
        """Wait on the main thread for the worker's answer to ``call_id``,
        serving its other messages meanwhile. None on timeout or death.

        The main thread reads this worker's pipe directly while it waits (the
        dispatcher leaves it alone), after first serving what the dispatcher
        had already queued, so the worker's messages stay in order.
        """
        script.awaiting.add(call_id)
        with script.read_lock:
            script.direct_depth += 1
        end = time.monotonic() + timeout
        try:
            while True:
                if call_id in script.replies:
                    return script.replies.pop(call_id)
                remaining = end - time.monotonic()
                if remaining <= 0 or script.dead:
                    return None
                try:
                    msg: Optional[tuple] = script.inbox.get_nowait()
                except queue.Empty:
                    msg = self._read_direct(script, remaining)
                    if msg is None:
                        continue
                if msg[0] in (P.REPLY, P.FAIL) and msg[1] == call_id:
                    return msg
                self._handle(script, msg)
        finally:
            script.awaiting.discard(call_id)
            with script.read_lock:
                script.direct_depth -= 1
                resume = script.direct_depth == 0 and script.paused and not script.resume_scheduled
                if resume:
                    script.resume_scheduled = True
            if resume:
                # Hand the pipe back to the dispatcher when HexChat is idle,
                # not after every event: in a burst of hooks the main thread
                # keeps reading it itself and no thread is woken in between.
                self.backend.call_soon(lambda: self._resume_dispatch(script))

    def _resume_dispatch(self, script: Script) -> None:
        with script.read_lock:
            script.resume_scheduled = False
            if script.direct_depth or not script.paused:
                return
            script.paused = False
        with self._lock:
            self._resume.append(script)
        os.write(self._wake_w, b"x")

    def _read_direct(self, script: Script, timeout: float) -> Optional[tuple]:
        """One message from the worker's pipe (main thread, while waiting)."""
        if script.broken or script.eof or script.worker is None:
            try:  # only the dispatcher's death marker can still come
                return script.inbox.get(timeout=timeout)
            except queue.Empty:
                return None
        conn = script.worker.conn
        try:
            # Waiting without the lock: the dispatcher, seeing direct_depth,
            # only pauses this pipe; it never reads it meanwhile.
            if not script.waiter.wait(conn, timeout):
                return None
            with script.read_lock:
                data = conn.recv_bytes(codec.MAX_MESSAGE_BYTES)
        except (EOFError, ConnectionResetError):  # a killed worker: its end, not a bad message
            script.eof = True
            return None
        except OSError as exc:
            script.broken = True
            return (_BROKEN, f"unreadable message: {exc}")
        try:
            return P.check_worker_message(codec.decode(data))
        except (codec.CodecError, P.ProtocolError) as exc:
            script.broken = True
            return (_BROKEN, str(exc))

    def _late_reply(self, script: Script, msg: tuple) -> None:
        call_id = msg[1]
        if call_id in script.awaiting:
            script.replies[call_id] = msg  # an outer wait will pick it up
            return
        now = time.monotonic()
        if script.slow.answered(call_id, now, script.deadline_ms / 1000.0):
            return  # a one-way delivery: its eat value no longer matters
        if call_id in script.abandoned:
            script.abandoned.discard(call_id)
            if script.late_call == call_id:
                # Back, but not waited on until it keeps up (slow_policy);
                # the user was told once, at the stall.
                script.late_call = None
                script.slow.late_answer(now)

    def _context_closed(self, word: List[str], word_eol: List[str], server_time: int) -> int:
        handle = self.backend.get_context()  # HexChat runs the hook in the closing context
        for script in self.scripts:
            if not script.dead:
                script.send((P.CTX_CLOSED, handle))
        return 0

    # ------------------------------------------------------------- hooks
    def register_hook(self, script: Script, call: Call, hook_id: int, args: List[Any]) -> None:
        """Register a backend hook that forwards to the worker's callback."""
        if script.state not in (State.STARTING, State.RUNNING) or hook_id in script.backend_hooks:
            return
        backend = self.backend
        kind = call.hook

        def forward(word: List[str], word_eol: List[str], server_time: int) -> int:
            return self._call_hook(script, hook_id, word, word_eol, server_time)

        if kind == "command":
            name, priority, help_text = args
            handle = backend.hook_command(name, priority, help_text, forward)
        elif kind == "print":
            name, priority = args
            handle = backend.hook_print(name, priority, forward, call.with_attrs)
        elif kind == "server":
            name, priority = args
            handle = backend.hook_server(name, priority, forward, call.with_attrs)
        else:  # timer
            name = f"timer {args[0]} ms"
            handle = backend.hook_timer(max(0, args[0]), lambda: self._fire_timer(script, hook_id))
        script.backend_hooks[hook_id] = handle
        script.hook_names[hook_id] = f"{kind} {name!r}" if kind != "timer" else name

    def remove_hook(self, script: Script, hook_id: int) -> None:
        handle = script.backend_hooks.pop(hook_id, None)
        script.hook_names.pop(hook_id, None)
        script.timers_due.discard(hook_id)
        if handle is not None:
            self.backend.unhook(handle)

    def _drop_hooks(self, script: Script) -> None:
        for hook_id in list(script.backend_hooks):
            self.remove_hook(script, hook_id)
        if script.gui is not None:
            self.backend.plugingui_remove(script.gui)
            script.gui = None

    def _call_hook(self, script: Script, hook_id: int, word: List[str], word_eol: List[str],
                   server_time: int) -> int:
        """A hook fired in HexChat: ask the worker, wait at most its deadline."""
        if script.dead or script.state not in (State.STARTING, State.RUNNING):
            return 0
        call_id = next(self._ids)
        ctx = self.backend.get_context()
        msg = (P.CALL, call_id, hook_id, ctx, [word, word_eol, server_time])
        now = time.monotonic()
        if script.late or not script.slow.should_wait(now, script.deadline_ms / 1000.0):
            # Not waited on (slow_policy): delivered, uneaten, or dropped if
            # the worker is not reading its pipe.
            if script.worker is not None and script.slow.can_send_one_way() \
                    and slow_policy.room_to_send(script.worker.conn.fileno()) and script.send(msg):
                script.slow.sent_one_way(call_id, now)
            else:
                script.missed_events += 1
            return 0
        if not script.send(msg):
            return 0
        reply = self._wait_reply(script, call_id, script.deadline_ms / 1000.0)
        if reply is None:
            if not script.dead:
                self._mark_late(script, call_id, script.hook_names.get(hook_id, "a hook"))
            return 0
        value = reply[2] if reply[0] == P.REPLY else 0
        return value if type(value) is int and 0 <= value <= 3 else 0

    def _mark_late(self, script: Script, call_id: int, what: str) -> None:
        script.abandoned.add(call_id)
        script.late_call = call_id
        script.late_since = time.monotonic()
        script.late_what = what
        script.late_count += 1
        script.slow.stalled(script.late_since)
        keep_up = f"{slow_policy.KEEP_UP_S:.0f} s"
        self.report(script, "late",
                    f"hexsandbox: {script.label} did not answer {what} within "
                    f"{script.deadline_ms} ms; HexChat no longer waits for it (its hooks still "
                    f"run, uneaten) until it keeps up for {keep_up} or /sandbox restart "
                    f"{script.label}. /sandbox stack {script.label} shows where it is stuck.")

    def _fire_timer(self, script: Script, hook_id: int) -> bool:
        """A timer is due. Timers do not eat anything, so HexChat does not
        wait: the worker answers with a ``timer_done`` note. A timer whose
        last run has not finished is not fired again (no pile-up)."""
        if script.dead or hook_id not in script.backend_hooks:
            return False
        if hook_id not in script.timers_due:
            script.timers_due.add(hook_id)
            script.send((P.FIRE, 0, hook_id, self.backend.get_context(), []))
        return True

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

    def _note_unloaded(self, script: Script, args: List[Any]) -> None:
        script.state = State.STOPPED

    # ------------------------------------------------------------- deaths
    def _reap(self, script: Script) -> None:
        """The worker process ended: clean up and say what happened, once,
        in one line (``endings``); only a crash after a good load restarts."""
        self._mark_dead(script)
        self._drop_hooks(script)
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

    def _mark_dead(self, script: Script) -> None:
        if script.dead:
            return
        script.dead = True
        if script.worker is not None:
            spawning.ended(script.worker)  # its group too: nothing it started lives on
            script.exitcode = script.worker.process.exitcode
            script.life.stderr_tail = spawning.stderr_tail(script.worker.stderr_path, lines=40)
            try:
                os.unlink(script.worker.stderr_path)
            except OSError:
                pass
            try:
                script.worker.conn.close()
            except OSError:
                pass
        with self._lock:
            if script in self._watched:
                self._watched.remove(script)
        script.late_call = None

    def _drop_broken(self, script: Script, why: str) -> None:
        """A worker sent bytes that are not a valid message: stop it."""
        if script.dead or script.state is State.STOPPED:
            return
        self.report(script, "protocol",
                    f"hexsandbox: {script.label} sent a malformed message and was stopped ({why}).")
        script.state = State.STOPPED  # reported here; the reaper stays quiet
        self._drop_hooks(script)
        if script.worker is not None:
            spawning.kill(script.worker)

    def _kill_if_alive(self, script: Script) -> bool:
        if not script.dead and script.worker is not None:
            if script.state is State.UNLOADING:
                script.life.stopped_after_grace = True
            spawning.kill(script.worker)
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
                    fresh = self.load(script.path, deadline_ms=script.deadline_ms, python=script.python)
                except SandboxError as exc:  # its file is gone, say; not retried
                    self.report(script, "failed", f"hexsandbox: {exc}")
                    return False
                fresh.crash_times = script.crash_times
            return False

        self.backend.hook_timer(delay, again)

    # =================================================== dispatcher thread
    def _dispatch_forever(self) -> None:
        """Wait on every pipe and sentinel; feed inboxes; never call the backend.

        One persistent epoll/poll selector; it is changed only when a worker
        is added (the wake pipe says so) or has died.
        """
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ, None)
        registered: Dict[int, Script] = {}   # id(script) -> script
        try:
            while not self._closing:
                with self._lock:
                    watched = list(self._watched)
                    resume, self._resume = self._resume, []
                for script in resume:
                    if id(script) in registered and not (script.broken or script.eof or script.dead):
                        try:
                            selector.register(script.worker.conn.fileno(), selectors.EVENT_READ,
                                              (script, "pipe"))
                        except (KeyError, ValueError, OSError):
                            pass  # already registered or closed
                for script in watched:
                    if id(script) not in registered and script.worker is not None:
                        selector.register(script.worker.conn.fileno(), selectors.EVENT_READ, (script, "pipe"))
                        selector.register(script.worker.sentinel, selectors.EVENT_READ, (script, "sentinel"))
                        registered[id(script)] = script
                for event, _mask in selector.select():
                    if event.data is None:
                        os.read(self._wake_r, 4096)
                        continue
                    script, what = event.data
                    if id(script) not in registered:
                        continue  # unregistered earlier in this batch
                    if what == "pipe" and not script.broken and not script.eof:
                        if self._read_available(script) and not (script.broken or script.eof):
                            continue
                        # Paused (the main thread reads it), EOF or broken.
                        selector.unregister(event.fd)
                    elif what == "sentinel":
                        self._read_available(script)
                        for fd in (script.worker.sentinel,):
                            selector.unregister(fd)
                        try:
                            selector.unregister(script.worker.conn.fileno())
                        except (KeyError, ValueError, OSError):
                            pass
                        del registered[id(script)]
                        with self._lock:
                            if script in self._watched:
                                self._watched.remove(script)
                        script.inbox.put((_DIED,))
                        self._schedule(script)
        finally:
            selector.close()

    def _read_available(self, script: Script) -> bool:
        """Queue what the worker has sent. False if the main thread is
        reading this pipe itself (then the dispatcher pauses it)."""
        with script.read_lock:
            if script.direct_depth:
                script.paused = True
                return False
            if script.broken or script.eof:
                return True
            conn = script.worker.conn
            for _ in range(1000):
                try:
                    if not conn.poll(0):
                        break
                    data = conn.recv_bytes(codec.MAX_MESSAGE_BYTES)
                except (EOFError, ConnectionResetError):  # a killed worker: its end, not a bad message
                    script.eof = True
                    break
                except OSError as exc:  # oversized message or broken pipe
                    script.broken = True
                    script.inbox.put((_BROKEN, f"unreadable message: {exc}"))
                    break
                try:
                    msg = P.check_worker_message(codec.decode(data))
                except (codec.CodecError, P.ProtocolError) as exc:
                    script.broken = True
                    script.inbox.put((_BROKEN, str(exc)))
                    break
                script.inbox.put(msg)
        self._schedule(script)
        return True


_CONTROL_NOTES: Dict[str, Callable[[Sandbox, Script, List[Any]], Any]] = {
    "loaded": Sandbox._note_loaded,
    "load_failed": Sandbox._note_load_failed,
    "timer_done": Sandbox._note_timer_done,
    "unloaded": Sandbox._note_unloaded,
}


def _failure(method: str, exc: Exception) -> List[str]:
    """What the worker should raise for a backend exception: the same type
    and message where it is a plain builtin (``KeyError('list not
    available')`` from get_list), else RuntimeError naming the call."""
    name = type(exc).__name__
    if name in P.RAISABLE and len(exc.args) == 1 and isinstance(exc.args[0], str):
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
