"""The Python client library: a ``hexchat`` module for a process of your own.

    import hexsandbox.remote
    hc = hexsandbox.remote.connect(name="greeter")
    hc.hook_print("Join", lambda word, word_eol, userdata: hc.command(f"say hi {word[0]}"))
    hc.run()

:func:`connect` does the handshake (:mod:`.handshake`) and returns a
:class:`RemoteApp`, whose attributes are those of the ``hexchat`` module:
the very proxy a sandboxed worker gets (:mod:`hexsandbox.proxy`, generated
from the API table), over the same session (:class:`hexsandbox.worker.WorkerRuntime`).
So everything a script can do, an application can, with the same rules:
the thread that runs :meth:`RemoteApp.run` runs the callbacks one at a time
and must answer each hook within HexChat's deadline; any other thread may
call the API at any time.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import types
from typing import Any, Callable, Optional

from .. import proxy, worker
from ..rpc import codec, framing
from ..rpc import messages as M
from . import handshake as H
from . import paths

#: How long close() waits for the receiver thread to see the end of stream.
CLOSE_TIMEOUT_S = 2.0

#: The largest answer accepted during the handshake.
_HANDSHAKE_MAX_FRAME = 64 * 1024


class RemoteError(RuntimeError):
    """HexChat refused the application, or the endpoint is not there."""


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes: the handshake must not read past its answer,
    whatever follows belongs to the session."""
    chunks = []
    while size:
        data = sock.recv(size)
        if not data:
            raise RemoteError("HexChat closed the connection")
        chunks.append(data)
        size -= len(data)
    return b"".join(chunks)


def _read_message(sock: socket.socket) -> M.Message:
    (size,) = framing.HEADER.unpack(_recv_exact(sock, framing.HEADER.size))
    if size > _HANDSHAKE_MAX_FRAME:
        raise RemoteError(f"HexChat sent a handshake answer of {size} bytes")
    return M.parse(codec.decode(_recv_exact(sock, size)))


def _say_waiting(text: str) -> None:
    print(f"hexsandbox: {text}", file=sys.stderr, flush=True)


def connect(name: str, *, socket_path: Optional[str] = None, token: Optional[str] = None,
            remember: bool = True, timeout: Optional[float] = None,
            on_waiting: Callable[[str], None] = _say_waiting) -> "RemoteApp":
    """Connect to HexChat's local API as application ``name``.

    The first time, HexChat asks its user, and this call waits (``timeout``
    seconds, None = as long as HexChat lets it) while ``on_waiting`` is told
    why. The token HexChat then issues is kept in ``paths.tokens_file()``
    (``remember``) and presented the next time; ``token`` overrides it.
    """
    if not H.valid_name(name):
        raise ValueError(f"bad application name {name!r}: 1 to 64 letters, digits, '.', '_', '-'")
    path = socket_path or paths.default_socket()
    if token is None and remember:
        token = paths.load_token(path, name)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(framing.frame(codec.encode(M.request(1, H.HELLO, None, [name, token]))))
        while True:
            msg = _read_message(sock)
            if isinstance(msg, M.Notification) and msg.method == H.WAITING:
                on_waiting(str(msg.args[0]) if msg.args else "waiting for the user")
            elif isinstance(msg, M.Response) and msg.msgid == 1:
                break
    except (OSError, codec.CodecError, M.ProtocolError) as exc:
        sock.close()
        raise RemoteError(f"cannot talk to HexChat at {path}: {exc}") from exc
    except RemoteError:
        sock.close()
        raise
    if msg.error is not None:
        sock.close()
        if token is not None and "token" in msg.error[1] and remember:
            paths.save_token(path, name, None)  # stale: the next try asks the user again
        raise RemoteError(msg.error[1])
    answer = msg.result if isinstance(msg.result, dict) else {}
    new_token = answer.get("token")
    if isinstance(new_token, str) and remember:
        try:
            paths.save_token(path, name, new_token)
        except (OSError, paths.UnsafePath) as exc:  # connected anyway; next time HexChat asks again
            print(f"hexsandbox: could not keep the token in {paths.tokens_file()}: {exc}",
                  file=sys.stderr)
    sock.settimeout(None)
    context = answer.get("context")
    return RemoteApp(sock, name, context if type(context) is int else None)


class RemoteApp:
    """A connected application. Its attributes are the ``hexchat`` module's
    (``hc.prnt``, ``hc.command``, ``hc.hook_print``, ``hc.get_list``,
    ``hc.EAT_ALL``...); ``hc.hexchat`` is the module itself."""

    def __init__(self, sock: socket.socket, name: str, context: Optional[int]) -> None:
        self.name = name
        self._sock = sock
        self.runtime = worker.WorkerRuntime(sock, context, peer="hexchat")
        self.hexchat: types.ModuleType = proxy.build_module(self.runtime, "hexchat")
        self._closed = False
        self._receiver = threading.Thread(target=self.runtime.receive_forever,
                                          name="hexsandbox-remote-receiver", daemon=True)
        self._receiver.start()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.hexchat, attr)

    def run(self) -> None:
        """Run callbacks until HexChat unloads the app (Unload in the Plugins
        and Scripts window, ``/sandbox deny``, HexChat quitting) or the
        connection ends. The calling thread becomes the callback thread."""
        rt = self.runtime
        rt.callback_thread = threading.get_ident()
        try:
            while not rt.unload_requested:
                msg = rt.next_message()
                if msg is None:
                    return
                rt.handle(msg)
            rt.oneway("unloading", rt.current_ctx, [])
            rt.run_unload_hooks()
        except worker.ConnectionLost:
            return
        finally:
            self.close()

    def start(self) -> threading.Thread:
        """:meth:`run` in a daemon thread (for notebooks, GUIs, services
        with a loop of their own); returns the thread."""
        thread = threading.Thread(target=self.run, name=f"hexsandbox-remote-{self.name}", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Leave quietly: HexChat removes the app's hooks without the
        "disconnected" notice that a crash gets."""
        if self._closed:
            return
        self._closed = True
        try:
            self.runtime.oneway("unloaded", self.runtime.current_ctx, [])
        except (worker.ConnectionLost, OSError):
            pass
        # Half-close, then let the receiver thread read until HexChat closes
        # its end: closing a Unix socket with unread bytes (an ``ack`` on its
        # way) makes the peer's next read fail with ECONNRESET, and HexChat
        # would lose the "unloaded" above and report a crash.
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.runtime.wake_reader()
        # The receiver thread must be gone before the descriptor is closed:
        # a new connection would get the same number, and a receiver still
        # polling it would read that connection's bytes.
        if self._receiver is not threading.current_thread():
            self._receiver.join(CLOSE_TIMEOUT_S)
        if not self._receiver.is_alive():
            self._sock.close()
        else:  # pragma: no cover - a receiver stuck past the timeout keeps the fd
            self._leaked = self._sock

    def __enter__(self) -> "RemoteApp":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def run_script(path: str, *, name: Optional[str] = None, socket_path: Optional[str] = None) -> int:
    """Run an unchanged HexChat script as an external application
    (``hexsandbox run-remote``). Its ``import hexchat`` / ``import xchat``
    get the app's proxy; its ``print()`` goes to this terminal."""
    path = os.path.abspath(path)
    if name is None:
        base = os.path.splitext(os.path.basename(path))[0]
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in base)[:64] or "script"
    app = connect(name, socket_path=socket_path)
    sys.modules["hexchat"] = app.hexchat
    sys.modules["xchat"] = proxy.build_module(app.runtime, "xchat")
    if not worker.load_script(app.runtime, path):
        app.close()
        return 1
    app.run()
    return 0
