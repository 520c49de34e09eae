"""The worker process: runs one HexChat script, forwarding its API calls.

Threads inside a worker:

* the **callback thread** (the process's main thread) loads the script and
  then runs every callback, one at a time, as HexChat's main thread does in
  process. While it waits for an answer of its own it still runs callbacks the
  client sends (nested hooks), so ``command()`` inside a hook behaves as in
  process;
* the **receiver thread** reads the socket while the callback thread cannot
  (a callback runs long, or another thread waits for an answer) and routes
  each message: answers go to the thread that asked, everything else to the
  callback thread. It sleeps otherwise (rpc/standby.py);
* any threads the script starts: they may call the API freely; their calls
  are serialised by the client.

The process entry point is :func:`main`, an importable function, because the
spawn start method cannot pickle a function defined in ``__main__``.
"""

from __future__ import annotations

import builtins
import collections
import faulthandler
import os
import resource
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, NoReturn, Optional, Set

from . import proxy
from .script_loading import load_script, print_callback_error
from .rpc import messages as M
from .rpc import trace
from .rpc.standby import Standby
from .rpc.session import SendRefused, Session, SessionClosed, new_reply_queue

#: Largest frame the client accepts from a worker (hexsandbox.sandbox.core
#: MAX_FRAME_FROM_WORKER): a bigger call is refused here, naming the call,
#: and the script goes on (the client would drop the whole worker).
MAX_FRAME_TO_CLIENT = 256 * 1024

#: Largest frame a worker accepts from the client (trusted, but get_list
#: answers for big channels are large).
MAX_FRAME_FROM_CLIENT = 64 * 1024 * 1024


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
    #: API rows beyond hexsandbox.api_table.CALLS (see Sandbox(extra_calls=)),
    #: pickled and base64-encoded: the config travels as JSON.
    extra_calls: str = ""


def _waits_for_the_callback(msg: M.Message) -> bool:
    """Runs only between callbacks, never nested inside one (handle_nested)."""
    if isinstance(msg, M.Notification):
        return msg.method in (M.EVENTS, M.TIMER)
    return isinstance(msg, M.Request) and msg.method == M.RUN


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
    """The worker's end of the session and its hook registry.

    The callback thread is the session's owner: idle, it reads the socket
    itself (:meth:`next_message`); the receiver thread (:meth:`receive_forever`,
    a standby reader: rpc/standby.py) reads while a callback runs long, or
    at once when another thread waits for an answer, so those still arrive.
    """

    def __init__(self, sock: socket.socket, context: Optional[int], spin_us: int = 0,
                 peer: str = "client") -> None:
        self.current_ctx: Optional[int] = context
        self.callback_thread = threading.get_ident()
        self.hooks: Dict[int, _Hook] = {}
        self.unload_requested = False
        #: Set as soon as an ``unload`` is read: from then on only the
        #: callback thread (running unload hooks) may call the API.
        self.unloading = threading.Event()
        #: Messages held back while a callback waited (``handle_nested``).
        self.deferred: Deque[M.Message] = collections.deque()
        self.lost = False
        #: Contexts the client said were closed (see ``context_closed``).
        self.closed_contexts: Set[Any] = set()
        self._receiver_ident: Optional[int] = None
        self.session = Session(
            sock, peer=peer, max_frame=MAX_FRAME_FROM_CLIENT, spin_us=spin_us,
            yield_while_serving=True, trace=trace.from_environment(),
            max_out_frame=MAX_FRAME_TO_CLIENT,
            immediate={M.ACK: self._on_ack, M.STACK: self._on_stack,
                       M.CONTEXT_CLOSED: self._on_context_closed, M.UNLOAD: self._on_unload,
                       M.HOOK: self._on_event, M.TIMER: self._on_event,
                       M.EVENTS: self._on_event})
        self.session.gate = self._may_send
        self._standby = Standby(self.session, self._connection_lost)

    @property
    def connection(self) -> socket.socket:
        """The socket to the client (tests write hostile bytes on it)."""
        return self.session.sock

    # ---- sending ---------------------------------------------------------
    def _may_send(self) -> bool:
        """The session's gate: once ``unload`` is read only the callback
        thread (running unload hooks) may still call the API."""
        return not self.unloading.is_set() or threading.get_ident() == self.callback_thread

    def _check_may_send(self) -> None:
        if self.lost:
            raise ConnectionLost("hexsandbox client is gone")
        if not self._may_send():
            self._wait_for_the_end()

    @staticmethod
    def _wait_for_the_end() -> NoReturn:
        """The script is being unloaded: its threads' calls would be
        discarded by the client anyway; they wait for the process to end."""
        while True:
            threading.Event().wait()

    def oneway(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        self._check_may_send()
        try:
            self.session.notify(method, ctx, args)
        except SendRefused:
            self._wait_for_the_end()
        except SessionClosed as exc:
            raise ConnectionLost(str(exc)) from exc

    def reentrant(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        """One-way, except on the callback thread where hooks it fires must
        run nested before it returns (as ``hexchat.command`` does in process)."""
        if threading.get_ident() == self.callback_thread:
            self.request(method, ctx, args)
        else:
            self.oneway(method, ctx, args)

    def request(self, method: str, ctx: Optional[int], args: List[Any]) -> Any:
        self._check_may_send()
        session = self.session
        try:
            if threading.get_ident() == self.callback_thread:
                msgid = session.send_request(method, ctx, args)
                reply = session.wait(msgid, None, self.handle_nested)
                if reply is None:
                    raise ConnectionLost("hexsandbox client is gone")
            else:
                waiter = new_reply_queue()
                session.send_request(method, ctx, args, waiter)
                reply = waiter.get()
        except SendRefused:
            self._wait_for_the_end()
        except SessionClosed as exc:
            raise ConnectionLost(str(exc)) from exc
        assert isinstance(reply, M.Response)
        return _unwrap(reply)

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
            self.oneway("prnt", self.current_ctx, [M.CLOSED_CONTEXT_NOTICE])
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

    # ---- receiving (any reading thread, read lock held) -----------------------
    def _on_ack(self, msg: M.Message) -> bool:
        assert isinstance(msg, M.Notification)
        if msg.args and type(msg.args[0]) is int:
            self.session.take_ack(msg.args[0])
        return False

    def _on_stack(self, msg: M.Message) -> bool:
        assert isinstance(msg, M.Request)
        self.session.respond(msg.msgid, None, self._stacks())
        return False

    def _on_context_closed(self, msg: M.Message) -> bool:
        self.closed_contexts.add(msg.ctx)  # type: ignore[union-attr]
        return False

    def _on_unload(self, msg: M.Message) -> bool:
        self.unloading.set()
        return True

    def _on_event(self, msg: M.Message) -> bool:
        # HexChat reuses freed pointers: a handle an event carries is open.
        if isinstance(msg, M.Notification) and msg.method == M.EVENTS:
            for event in msg.args[0]:
                self.live_context(event[1])
        else:
            self.live_context(msg.ctx)  # type: ignore[union-attr]
        return True

    def receive_forever(self) -> None:
        """Receiver thread: reads while the callback thread is busy (rpc/standby.py)."""
        self._receiver_ident = threading.get_ident()
        self._standby.run()

    def wake_reader(self) -> None:
        """Have the receiver read now (unless the callback thread is reading):
        the app is closing and waits for the end of the stream."""
        self._standby.needed()

    def next_message(self) -> Optional[M.Message]:
        """The callback thread's next message (None: the client is gone):
        what was held back while a callback waited comes first."""
        while True:
            if self.deferred:
                return self.deferred.popleft()
            # A hook request alone is run and answered right there (the
            # session's fast path); anything else comes back to be handled.
            msg = self.session.next_or_serve(M.HOOK, self._run_hook)
            if msg is True:
                continue
            if msg is None:
                self._connection_lost()
            return msg  # type: ignore[return-value]

    def _connection_lost(self) -> None:
        self.lost = True
        self.session.close("hexsandbox client is gone")

    def _stacks(self) -> str:
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
        return "\n".join(parts)

    # ---- the callback thread's work -------------------------------------------
    def handle_nested(self, msg: M.Message) -> None:
        """A message that came while a callback waits for the answer to its
        own call. A hook that call fired (a ``hook`` request) runs nested, as
        in process. Nothing else is caused by that call, and in process
        nothing else could run inside a callback: asynchronous events,
        timers and ``run`` (the tools' barrier) wait until the callback
        returns, and so does whatever comes after them, so the order holds."""
        if not self.deferred and not _waits_for_the_callback(msg):
            self.handle(msg)
        elif isinstance(msg, M.Request) and msg.method == M.HOOK:
            self.handle(msg)
        else:
            self.deferred.append(msg)

    def handle(self, msg: M.Message) -> None:
        if isinstance(msg, M.Request):
            if msg.method == M.HOOK:
                self.session.respond(msg.msgid, None, self._run_hook(msg.ctx, msg.args))
            elif msg.method == M.RUN:
                self._run_function(msg.msgid, msg.args)
            else:
                self.session.respond(msg.msgid, ["AttributeError", f"unknown method {msg.method!r}"], None)
        elif isinstance(msg, M.Notification):
            if msg.method == M.TIMER:
                self._fire_timer(msg.args[0], msg.ctx)
            elif msg.method == M.EVENTS:
                # Asynchronous hooks: nobody waits, the eat values go nowhere.
                for hook_id, ctx, word, word_eol, time in msg.args[0]:
                    self._run_hook(ctx, [hook_id, word, word_eol, time])
            elif msg.method == M.UNLOAD:
                self.unload_requested = True

    def _run_hook(self, ctx: Optional[int], args: List[Any]) -> int:
        hook_id, word, word_eol, time = args
        hook = self.hooks.get(hook_id)
        if hook is None:  # unhooked while the event was on its way
            return 0
        self.current_ctx = ctx
        try:
            if hook.with_attrs:
                attr = proxy.Attribute()
                attr.time = time
                result = hook.callback(word, word_eol, hook.userdata, attr)
            else:
                result = hook.callback(word, word_eol, hook.userdata)
            return 0 if result is None else int(result)
        except Exception:
            print_callback_error()
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
            print_callback_error()
            keep = False
        if not keep:
            self.hooks.pop(hook_id, None)
        self.oneway("timer_done", self.current_ctx, [hook_id, bool(keep)])

    def _run_function(self, msgid: int, args: List[Any]) -> None:
        import cloudpickle  # only tools and tests ship functions in

        try:
            result = cloudpickle.loads(args[0])()
            self.session.respond(msgid, None, result)
        except Exception as exc:
            self.session.respond(msgid, [type(exc).__name__, str(exc)], None)

    def run_unload_hooks(self) -> None:
        for hook in [h for h in self.hooks.values() if h.kind == "unload"]:
            try:
                hook.callback(hook.userdata)
            except Exception:
                print_callback_error()


def _unwrap(reply: M.Response) -> Any:
    if reply.error is None:
        return reply.result
    exc_type, message = reply.error
    raise _EXCEPTIONS.get(exc_type, RuntimeError)(message)


_EXCEPTIONS: Dict[str, type] = {name: getattr(builtins, name) for name in M.RAISABLE}


#: The running worker's runtime (one per process).
RUNTIME: Optional[WorkerRuntime] = None


def proxy_module(name: str) -> Any:
    """The proxy module ``name`` of this worker (used by ``compat/``)."""
    if RUNTIME is None:
        raise ImportError(f"{name} is only available inside HexChat or a hexsandbox worker")
    return sys.modules.get(name) or proxy.build_module(RUNTIME, name)


def encode_calls(calls: tuple) -> str:
    """``WorkerConfig.extra_calls`` for these rows (host -> worker, trusted)."""
    import base64
    import pickle

    return base64.b64encode(pickle.dumps(tuple(calls))).decode() if calls else ""


def _decode_calls(text: str) -> tuple:
    import base64
    import pickle

    return pickle.loads(base64.b64decode(text)) if text else ()


def _install_modules(runtime: WorkerRuntime, compat_dir: Optional[str],
                     extra_calls: tuple = ()) -> None:
    """Make ``import hexchat`` and ``import xchat`` give the proxy."""
    global RUNTIME
    RUNTIME = runtime
    if compat_dir and compat_dir not in sys.path:
        sys.path.insert(0, compat_dir)
    for name in ("hexchat", "xchat"):
        sys.modules[name] = proxy.build_module(runtime, name, extra_calls)


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
    _install_modules(runtime, config.compat_dir, _decode_calls(config.extra_calls))
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
            while not runtime.unload_requested or runtime.deferred:
                msg = runtime.next_message()
                if msg is None:
                    raise ConnectionLost("hexsandbox client is gone")
                runtime.handle(msg)
            # Tells the client that everything after this comes from the
            # unload hooks: what the script sent before is discarded.
            runtime.oneway("unloading", runtime.current_ctx, [])
            runtime.run_unload_hooks()
            runtime.oneway("unloaded", runtime.current_ctx, [])
    except (ConnectionLost, SessionClosed):
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
