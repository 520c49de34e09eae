"""The worker process: runs one HexChat script, forwarding its API calls.

Threads inside a worker:

* the **callback thread** (the process's main thread) loads the script and
  then runs every callback, one at a time, as HexChat's main thread does in
  process. While it waits for an answer of its own it still runs callbacks the
  client sends (nested hooks), so ``command()`` inside a hook behaves as in
  process;
* the **receiver thread** reads the pipe and routes each message: answers go
  to the thread that asked, everything else to the callback thread;
* any threads the script starts: they may call the API freely; their calls
  are serialised by the client.

The process entry point is :func:`main`, an importable function, because the
spawn start method cannot pickle a function defined in ``__main__``.
"""

from __future__ import annotations

import builtins
import faulthandler
import itertools
import os
import queue
import resource
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from . import codec, limits, proxy
from . import protocol as P
from .spinwait import SpinWaiter

#: Sentinel in ``pending``: the answer goes to the callback thread's queue.
_TO_CALLBACK_THREAD = object()


class ConnectionLost(RuntimeError):
    """The client went away; the worker is about to exit."""


@dataclass
class WorkerConfig:
    """What the client tells a new worker (host -> worker, trusted)."""

    script_path: str
    context: Optional[int]
    stderr_path: Optional[str] = None
    memory_limit_mb: int = 0
    compat_dir: Optional[str] = None
    spin_us: int = 0  # see spinwait


@dataclass
class _Hook:
    kind: str              # 'command' | 'print' | 'server' | 'timer' | 'unload'
    with_attrs: bool
    callback: Callable
    userdata: Any


class _Stdout:
    """HexChat's stdout writer, reproduced: each completed line block is
    printed in the current context; the rest waits in a buffer."""

    def __init__(self, runtime: "WorkerRuntime") -> None:
        self._rt = runtime
        self._buffer = ""
        self._lock = threading.Lock()

    def write(self, string: str) -> int:
        with self._lock:
            idx = string.rfind("\n")
            if idx != -1:
                text = self._buffer + string[:idx]
                self._buffer = string[idx + 1:]
                self._rt.oneway("prnt", self._rt.current_ctx, [text])
            else:
                self._buffer += string
        return len(string)

    def flush(self) -> None:
        with self._lock:
            text, self._buffer = self._buffer, ""
        if text:
            self._rt.oneway("prnt", self._rt.current_ctx, [text])

    def isatty(self) -> bool:
        return False


class WorkerRuntime:
    """The worker's end of the pipe and its hook registry."""

    def __init__(self, conn: Any, context: Optional[int], spin_us: int = 0) -> None:
        self.conn = conn
        self.current_ctx: Optional[int] = context
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: Dict[int, Any] = {}
        self._pending_lock = threading.Lock()
        self.main_queue: "queue.SimpleQueue[tuple]" = queue.SimpleQueue()
        self.callback_thread = threading.get_ident()
        self.hooks: Dict[int, _Hook] = {}
        self.unload_requested = False
        self.lost = False
        #: Contexts the client said were closed (see CTX_CLOSED).
        self.closed_contexts: set = set()
        self._read_cv = threading.Condition(threading.Lock())
        self._receiver_ident: Optional[int] = None
        self._callback_reading = False
        self._waiter = SpinWaiter(spin_us)  # the callback thread's, for its reads

    # ---- sending ---------------------------------------------------------
    def _send(self, msg: tuple) -> None:
        data = codec.encode(msg)
        if len(data) > codec.MAX_MESSAGE_BYTES:  # refused here, the script survives
            limits.refuse_oversized(str(msg[2]) if msg[0] in (P.NOTE, P.REQUEST) else "reply",
                                    len(data), codec.MAX_MESSAGE_BYTES)
        with self._send_lock:
            if self.lost:
                raise ConnectionLost("hexsandbox client is gone")
            self.conn.send_bytes(data)

    def oneway(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        self._send((P.NOTE, 0, method, ctx, args))

    def reentrant(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        """One-way, except on the callback thread where hooks it fires must
        run nested before it returns (as ``hexchat.command`` does in process)."""
        if threading.get_ident() == self.callback_thread:
            self.request(method, ctx, args)
        else:
            self.oneway(method, ctx, args)

    def request(self, method: str, ctx: Optional[int], args: List[Any]) -> Any:
        call_id = next(self._ids)
        on_callback_thread = threading.get_ident() == self.callback_thread
        waiter: Any = _TO_CALLBACK_THREAD if on_callback_thread else queue.SimpleQueue()
        with self._pending_lock:
            if self.lost:
                raise ConnectionLost("hexsandbox client is gone")
            self._pending[call_id] = waiter
        self._send((P.REQUEST, call_id, method, ctx, args))
        if on_callback_thread:
            reply = self._wait_on_callback_thread(call_id)
        else:
            reply = waiter.get()
        return _unwrap(reply)

    def _wait_on_callback_thread(self, call_id: int) -> tuple:
        """Wait for our answer, running nested callbacks meanwhile."""
        while True:
            msg = self.next_message()
            if msg[0] in (P.REPLY, P.FAIL) and msg[1] == call_id:
                return msg
            self.handle(msg)
            if self.lost:
                raise ConnectionLost("hexsandbox client is gone")

    # ---- hooks -------------------------------------------------------------
    def live_context(self, handle: Any) -> Any:
        """A context handle the client just handed out is open, even if an
        earlier context with the same handle was closed."""
        self.closed_contexts.discard(handle)
        return handle

    def check_context(self, handle: Any) -> None:
        """``Context`` methods on a context known to be closed: HexChat's
        notice in the current context, then the RuntimeError that
        ``_hexchat.py``'s context manager raises (it never yields)."""
        if handle in self.closed_contexts:
            self.oneway("prnt", self.current_ctx, [P.CLOSED_CONTEXT_NOTICE])
            raise RuntimeError("generator didn't yield")

    def add_hook(self, method: str, kind: str, with_attrs: bool, callback: Callable,
                 userdata: Any, wire_args: List[Any]) -> int:
        hook = _Hook(kind, with_attrs, callback, userdata)
        hook_id = id(hook)
        self.hooks[hook_id] = hook
        self.oneway(method, self.current_ctx, [hook_id] + wire_args)
        return hook_id

    def add_unload_hook(self, callback: Callable, userdata: Any) -> int:
        hook = _Hook("unload", False, callback, userdata)
        self.hooks[id(hook)] = hook
        return id(hook)

    def unhook(self, handle: Any) -> Any:
        hook = self.hooks.pop(handle, None) if isinstance(handle, int) else None
        if hook is None:
            return None
        if hook.kind != "unload":
            self.oneway("unhook", self.current_ctx, [handle])
        return hook.userdata

    # ---- receiving -----------------------------------------------------------
    def _route(self, msg: tuple) -> Optional[tuple]:
        """Deliver a message read from the pipe; return it if it is the
        callback thread's. Called with the read lock held, so a message is
        always routed before another thread can take over reading."""
        kind = msg[0]
        if kind in (P.REPLY, P.FAIL):
            with self._pending_lock:
                waiter = self._pending.pop(msg[1], None)
            if waiter is _TO_CALLBACK_THREAD:
                return msg
            if waiter is not None:
                waiter.put(msg)
            return None
        if kind == P.STACK:
            self._answer_stack(msg[1])
            return None
        if kind == P.CTX_CLOSED:
            self.closed_contexts.add(msg[1])
            return None
        if kind in (P.CALL, P.FIRE):
            self.live_context(msg[3])  # HexChat reuses freed context pointers
        return msg

    def receive_forever(self) -> None:
        """Receiver thread: reads while the callback thread is busy.

        When the callback thread is idle it reads the pipe itself (no thread
        hand-off on a hook's critical path) and this thread steps aside.
        """
        conn = self.conn
        self._receiver_ident = threading.get_ident()
        while True:
            try:
                conn.poll(None)  # data or EOF; the lock is not held while waiting
            except (EOFError, OSError):
                pass
            with self._read_cv:
                while self._callback_reading:
                    self._read_cv.wait()
                try:
                    if not conn.poll(0):
                        continue
                    msg = codec.decode_trusted(conn.recv_bytes())
                except (EOFError, OSError):
                    self._connection_lost()
                    return
                mine = self._route(msg)
                if mine is not None:
                    self.main_queue.put(mine)

    def next_message(self) -> tuple:
        """The callback thread's next message: one the receiver already
        routed, else read straight from the pipe."""
        try:
            return self.main_queue.get_nowait()
        except queue.Empty:
            pass
        with self._read_cv:
            self._callback_reading = True
        try:
            while True:
                try:
                    return self.main_queue.get_nowait()
                except queue.Empty:
                    pass
                if self._waiter.enabled:
                    self._waiter.wait(self.conn, None)  # a burst's next event may find us awake
                with self._read_cv:
                    try:
                        msg = codec.decode_trusted(self.conn.recv_bytes())
                    except (EOFError, OSError):
                        self._connection_lost()
                        continue
                    mine = self._route(msg)
                if mine is not None:
                    return mine
        finally:
            with self._read_cv:
                self._callback_reading = False
                self._read_cv.notify_all()

    def _connection_lost(self) -> None:
        with self._pending_lock:
            self.lost = True
            waiters, self._pending = list(self._pending.values()), {}
        lost = (P.FAIL, -1, ["RuntimeError", "hexsandbox client is gone"])
        for waiter in waiters:
            if waiter is not _TO_CALLBACK_THREAD:
                waiter.put(lost)
        self.main_queue.put((P.UNLOAD, "lost"))

    def _answer_stack(self, call_id: int) -> None:
        frames = sys._current_frames()
        names = {t.ident: t.name for t in threading.enumerate()}
        parts = []
        for ident, frame in frames.items():
            if ident == self._receiver_ident:
                continue  # the receiver thread itself is not interesting
            if ident == threading.get_ident():  # the idle callback thread is answering
                parts.append(f"--- callback thread ({ident}) ---\n  idle: waiting for events\n")
                continue
            label = "callback thread" if ident == self.callback_thread else names.get(ident, "thread")
            parts.append(f"--- {label} ({ident}) ---\n" + "".join(traceback.format_stack(frame)))
        self._send((P.REPLY, call_id, "\n".join(parts)))

    # ---- the callback thread's work -------------------------------------------
    def handle(self, msg: tuple) -> None:
        kind = msg[0]
        if kind == P.CALL:
            _, call_id, hook_id, ctx, args = msg
            self._send((P.REPLY, call_id, self._run_hook(hook_id, ctx, args)))
        elif kind == P.FIRE:
            self._fire_timer(msg[2], msg[3])
        elif kind == P.RUN:
            self._run_function(msg[1], msg[2])
        elif kind == P.UNLOAD:
            self.unload_requested = True

    def _run_hook(self, hook_id: int, ctx: Optional[int], args: List[Any]) -> int:
        hook = self.hooks.get(hook_id)
        if hook is None:  # unhooked while the event was on its way
            return 0
        self.current_ctx = ctx
        word, word_eol, time = args
        try:
            if hook.with_attrs:
                attr = proxy.Attribute()
                attr.time = time
                result = hook.callback(word, word_eol, hook.userdata, attr)
            else:
                result = hook.callback(word, word_eol, hook.userdata)
            return 0 if result is None else int(result)
        except Exception:
            _print_callback_error()
            return 0

    def _fire_timer(self, hook_id: int, ctx: Optional[int]) -> None:
        hook = self.hooks.get(hook_id)
        if hook is None:
            return
        self.current_ctx = ctx
        try:
            # HexChat 2.16.1's python.py: ``if hook.callback(...) is True`` --
            # a timer returning 1 is removed.
            keep = hook.callback(hook.userdata) is True
        except Exception:
            _print_callback_error()
            keep = False
        if not keep:
            self.hooks.pop(hook_id, None)
        self.oneway("timer_done", self.current_ctx, [hook_id, bool(keep)])

    def _run_function(self, call_id: int, payload: bytes) -> None:
        import cloudpickle  # only tools and tests ship functions in

        try:
            result = cloudpickle.loads(payload)()
            reply: tuple = (P.REPLY, call_id, result)
        except Exception as exc:
            reply = (P.FAIL, call_id, [type(exc).__name__, str(exc)])
        try:
            self._send(reply)
        except codec.CodecError as exc:
            self._send((P.FAIL, call_id, ["TypeError", str(exc)]))

    def run_unload_hooks(self) -> None:
        for hook in [h for h in self.hooks.values() if h.kind == "unload"]:
            try:
                hook.callback(hook.userdata)
            except Exception:
                _print_callback_error()


def _unwrap(reply: tuple) -> Any:
    if reply[0] == P.REPLY:
        return reply[2]
    exc_type, message = reply[2]
    raise _EXCEPTIONS.get(exc_type, RuntimeError)(message)


_EXCEPTIONS: Dict[str, type] = {name: getattr(builtins, name) for name in P.RAISABLE}


def _print_callback_error() -> None:
    """Print the script's traceback, without the worker's own frames."""
    exc_type, exc, tb = sys.exc_info()
    if tb is not None:
        tb = tb.tb_next  # drop the dispatching frame
    if tb is None:
        # Nothing of the script's ran (a SyntaxError from compile): in process
        # the header still comes, above python.py's own frame.
        sys.stderr.write("Traceback (most recent call last):\n")
    traceback.print_exception(exc_type, exc, tb)


class _Plugin:
    """What scripts find as ``__plugin`` in their globals (as in process)."""

    def __init__(self, path: str) -> None:
        self.filename = path
        self.name = ""
        self.version = ""
        self.description = ""


def load_script(runtime: WorkerRuntime, path: str) -> bool:
    """Compile and run the script as HexChat's Python plugin does."""
    plugin = _Plugin(path)
    globals_: Dict[str, Any] = {"__plugin": plugin, "__name__": "__main__"}
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8")
        compiled = compile(data, path, "exec", optimize=2, dont_inherit=True)
        exec(compiled, globals_)
        try:
            plugin.name = globals_["__module_name__"]
        except KeyError:
            runtime.oneway("prnt", runtime.current_ctx,
                           ["Failed to load module: __module_name__ must be set"])
            runtime.run_unload_hooks()  # in process the discarded Plugin runs them
            runtime.oneway("load_failed", runtime.current_ctx,
                           ["__module_name__ must be set"])
            return False
        plugin.version = globals_.get("__module_version__", "")
        plugin.description = globals_.get("__module_description__", "")
    except Exception as e:
        runtime.oneway("prnt", runtime.current_ctx, [f"Failed to load module: {e}"])
        _print_callback_error()  # the traceback, from the script's own frames
        runtime.run_unload_hooks()  # in process the discarded Plugin runs them
        runtime.oneway("load_failed", runtime.current_ctx, [_load_error_kind(e)])
        return False
    runtime.oneway("loaded", runtime.current_ctx,
                   [str(plugin.name), str(plugin.version), str(plugin.description)])
    return True


def _load_error_kind(exc: BaseException) -> str:
    """A one-line reason, recognising Python 2 scripts."""
    if isinstance(exc, SyntaxError) and _looks_like_python2(exc):
        return f"Python 2 only: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _looks_like_python2(exc: SyntaxError) -> bool:
    text = (exc.text or "").strip()
    msg = exc.msg or ""
    return ("Missing parentheses in call to 'print'" in msg
            or "Missing parentheses in call to 'exec'" in msg
            or text.startswith(("print ", "exec "))
            or ("except" in text and "," in text and text.rstrip().endswith(":"))
            or "ur'" in text or 'ur"' in text
            or msg.startswith("invalid decimal literal") and text.rstrip("L").isdigit())


#: The running worker's runtime (one per process).
RUNTIME: Optional[WorkerRuntime] = None


def proxy_module(name: str) -> Any:
    """The proxy module ``name`` of this worker (used by ``compat/``)."""
    if RUNTIME is None:
        raise ImportError(f"{name} is only available inside HexChat or a hexsandbox worker")
    return sys.modules.get(name) or proxy.build_module(RUNTIME, name)


def _install_modules(runtime: WorkerRuntime, compat_dir: Optional[str]) -> None:
    """Make ``import hexchat`` and ``import xchat`` give the proxy."""
    global RUNTIME
    RUNTIME = runtime
    if compat_dir and compat_dir not in sys.path:
        sys.path.insert(0, compat_dir)
    for name in ("hexchat", "xchat"):
        sys.modules[name] = proxy.build_module(runtime, name)


def _redirect_fd_stderr(path: Optional[str]) -> None:
    """C-level output and fatal-error dumps go to a private file the client
    reads after a crash; ``faulthandler`` writes the Python stack there on
    SIGSEGV/SIGABRT, and on SIGUSR1 for ``/sandbox stack``."""
    if not path:
        faulthandler.enable(all_threads=True)
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    stream = open(2, "w", closefd=False, buffering=1)
    faulthandler.enable(file=stream, all_threads=True)
    faulthandler.register(signal.SIGUSR1, file=stream, all_threads=True, chain=False)


def _limit_memory(megabytes: int) -> None:
    if megabytes > 0:
        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(conn: Any, config: WorkerConfig) -> None:
    """Worker process entry point (spawned by :mod:`hexsandbox.spawning`)."""
    _redirect_fd_stderr(config.stderr_path)
    _limit_memory(config.memory_limit_mb)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal is HexChat's
    runtime = WorkerRuntime(conn, config.context, config.spin_us)
    _install_modules(runtime, config.compat_dir)
    out = _Stdout(runtime)
    sys.stdout = sys.stderr = out  # type: ignore[assignment]
    sys.argv = ["<hexchat>"]
    script_dir = os.path.dirname(os.path.abspath(config.script_path))
    try:
        os.chdir(script_dir)  # as HexChat's autoload does (cwd = addons folder)
    except OSError:
        pass
    threading.Thread(target=runtime.receive_forever, name="hexsandbox-receiver",
                     daemon=True).start()
    code = 0
    try:
        if load_script(runtime, config.script_path):
            while not runtime.unload_requested:
                runtime.handle(runtime.next_message())
            if not runtime.lost:
                runtime.run_unload_hooks()
                runtime.oneway("unloaded", runtime.current_ctx, [])
    except ConnectionLost:
        pass
    except SystemExit as exc:  # sys.exit() in the script ends its worker
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            os.write(2, (exc.code + "\n").encode())
    except BaseException:
        os.write(2, traceback.format_exc().encode())
        code = 70
    # The script's own threads must not outlive its worker (no orphans), and
    # the interpreter's shutdown would wait for them: leave at once.
    os._exit(code)
