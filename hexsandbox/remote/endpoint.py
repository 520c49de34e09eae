"""The listening socket and the handshake, on a thread of their own.

Nothing here runs on HexChat's main thread: accepting, the SO_PEERCRED
check, reading the hello (non-blocking, into a small reassembly buffer, with
a deadline) and the allow-list check all happen on the endpoint thread. Only
an application that passed them is handed over (``on_admit``), and the
owner (:mod:`.service`) moves it to the main thread with ``call_soon``.

Bounds, so that nobody can make this thread or HexChat hold much:
at most ``MAX_HANDSHAKES`` connections in the handshake at once (more are
closed at accept), frames of at most ``handshake.PREAUTH_MAX_FRAME`` bytes,
``HELLO_DEADLINE_S`` to say hello, ``ASK_DEADLINE_S`` to be answered by the
user, ``PREAUTH_MAX_MESSAGES`` messages while waiting.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from ..rpc import codec, framing
from ..rpc import messages as M
from . import handshake as H
from ..wakepipe import WakePipe
from .allowlist import AllowList, Verdict
from .paths import UnsafePath, private_dir
from .peercred import Peer, command_line, peer_of

MAX_HANDSHAKES = 64
TIMED_OUT = "the user did not answer in time"
#: How long the endpoint thread waits for room to write one answer.
WRITE_TIMEOUT_S = 0.5


@dataclass
class Pending:
    """A connection in the handshake (endpoint thread only)."""

    sock: socket.socket
    peer: Peer
    deadline: float
    reader: framing.FrameReader = field(default_factory=lambda: framing.FrameReader(H.PREAUTH_MAX_FRAME))
    name: str = ""
    hello_id: Optional[int] = None
    asking: bool = False
    messages: int = 0

    @property
    def cmdline(self) -> str:
        return command_line(self.peer.pid)


class EndpointError(RuntimeError):
    """The endpoint could not be opened (one line for the user)."""


def bind_private(path: str) -> socket.socket:
    """A listening Unix socket at ``path``, mode 0600, in a 0700 directory.

    A stale socket file (nobody listening) is replaced; a live one is left
    alone (another HexChat serves it)."""
    try:
        private_dir(os.path.dirname(os.path.abspath(path)))
    except (UnsafePath, OSError) as exc:
        raise EndpointError(f"cannot use {os.path.dirname(path)}: {exc}") from exc
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISSOCK(st.st_mode):
            raise EndpointError(f"{path} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            raise EndpointError(f"another program already listens on {path}")
        except (ConnectionRefusedError, FileNotFoundError):
            os.unlink(path)
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(path)
    except OSError as exc:
        sock.close()
        raise EndpointError(f"cannot listen on {path}: {exc}") from exc
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(64)
    sock.setblocking(False)
    return sock


class Endpoint:
    """Accepts applications; see the module docstring.

    Callbacks run on the endpoint thread:

    * ``on_admit(pending, token)``: allowed; ``token`` is new (or None). The
      socket now belongs to the callee;
    * ``on_ask(pending)``: an unknown application waits for the user;
    * ``on_refused(peer, name, why)``: refused (another uid, wrong token,
      denied, bad hello, no answer in time).
    """

    def __init__(self, path: str, allowlist: AllowList, *,
                 on_admit: Callable[[Pending, Optional[str]], None],
                 on_ask: Callable[[Pending], None],
                 on_refused: Callable[[Peer, str, str], None]) -> None:
        self.path = path
        self.allowlist = allowlist
        self._on_admit, self._on_ask, self._on_refused = on_admit, on_ask, on_refused
        self._listener = bind_private(path)
        self._pending: Dict[int, Pending] = {}
        self._orders: List[Tuple[str, str, Optional[str]]] = []
        self._lock = threading.Lock()
        self._waker = WakePipe()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="hexsandbox-endpoint", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ any thread
    def release(self, name: str, token: str) -> None:
        """The user allowed ``name``: admit its waiting connections with ``token``."""
        self._order(("allow", name, token))

    def refuse(self, name: str) -> None:
        """The user denied ``name``: answer its waiting connections and close them."""
        self._order(("deny", name, None))

    def close(self) -> None:
        self._closing = True
        self._waker.wake()
        self._thread.join(2.0)
        self._waker.close()

    def _order(self, order: Tuple[str, str, Optional[str]]) -> None:
        with self._lock:
            self._orders.append(order)
        self._waker.wake()

    # ------------------------------------------------------- endpoint thread
    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._waker.read_fd, selectors.EVENT_READ, "wake")
        sel.register(self._listener, selectors.EVENT_READ, "listen")
        try:
            while not self._closing:
                timeout = self._expire(sel)
                for key, _ in sel.select(timeout):
                    if key.data == "wake":
                        self._waker.drain()
                        self._take_orders(sel)
                    elif key.data == "listen":
                        self._accept(sel)
                    else:
                        self._read(sel, key.data)
        finally:
            for pending in list(self._pending.values()):
                self._drop(sel, pending)
            sel.close()
            self._listener.close()
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def _accept(self, sel: selectors.BaseSelector) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    return  # out of descriptors: the backlog waits
                raise
            peer = peer_of(sock)
            if peer.uid != os.getuid():
                sock.close()
                self._on_refused(peer, "", "it belongs to another user")
                continue
            if len(self._pending) >= MAX_HANDSHAKES:
                sock.close()
                continue
            sock.setblocking(False)
            pending = Pending(sock, peer, time.monotonic() + H.HELLO_DEADLINE_S)
            self._pending[sock.fileno()] = pending
            sel.register(sock, selectors.EVENT_READ, pending)

    def _read(self, sel: selectors.BaseSelector, pending: Pending) -> None:
        try:
            data = framing.read_some(pending.sock, H.PREAUTH_MAX_FRAME)
            bodies = pending.reader.feed(data) if data else []
            for body in bodies:
                msg = M.parse(codec.decode(body))
                if not self._message(sel, pending, msg):
                    return
        except (framing.PeerClosed, framing.FrameError, codec.CodecError, M.ProtocolError,
                H.BadHello, OSError) as exc:
            if pending.name and not isinstance(exc, framing.PeerClosed):
                self._on_refused(pending.peer, pending.name, f"it broke the handshake ({exc})")
            self._drop(sel, pending)

    def _message(self, sel: selectors.BaseSelector, pending: Pending, msg: M.Message) -> bool:
        """Serve one handshake message; False if the connection left our hands."""
        if pending.hello_id is None:
            if not isinstance(msg, M.Request) or msg.method != H.HELLO:
                self._answer_and_drop(sel, pending, getattr(msg, "msgid", 0),
                                      "the first message must be a hello request")
                return False
            pending.hello_id = msg.msgid
            try:
                name, token = H.parse_hello(msg.args)
            except H.BadHello as exc:
                self._answer_and_drop(sel, pending, msg.msgid, str(exc))
                return False
            pending.name = name
            return self._decide(sel, pending, self.allowlist.check(name, token))
        pending.messages += 1
        if pending.messages > H.PREAUTH_MAX_MESSAGES:
            raise H.BadHello("too many messages before it was allowed")
        if isinstance(msg, M.Request):
            self._write(pending, M.response(msg.msgid, ["RuntimeError",
                        f"hexsandbox: {pending.name} is not allowed yet"], None))
        return True

    def _decide(self, sel: selectors.BaseSelector, pending: Pending, verdict: Verdict) -> bool:
        if verdict is Verdict.ALLOWED:
            self._admit(sel, pending, None)
            return False
        if verdict is Verdict.UNKNOWN:
            pending.asking = True
            pending.deadline = time.monotonic() + H.ASK_DEADLINE_S
            self._write(pending, M.notification(H.WAITING, None, [
                f"waiting for the user to type /sandbox allow {pending.name} in HexChat"]))
            self._on_ask(pending)
            return True
        why = "the user denied it" if verdict is Verdict.DENIED else "its token is wrong or stale"
        self._on_refused(pending.peer, pending.name, why)
        self._answer_and_drop(sel, pending, pending.hello_id or 0, f"refused: {why}")
        return False

    def _admit(self, sel: selectors.BaseSelector, pending: Pending, token: Optional[str]) -> None:
        self._forget(sel, pending)
        if pending.reader.buffered:
            self._on_refused(pending.peer, pending.name, "it sent more before its hello was answered")
            pending.sock.close()
            return
        pending.sock.setblocking(True)
        self._on_admit(pending, token)

    def _take_orders(self, sel: selectors.BaseSelector) -> None:
        with self._lock:
            orders, self._orders = self._orders, []
        for what, name, token in orders:
            for pending in [p for p in self._pending.values() if p.asking and p.name == name]:
                if what == "allow":
                    assert token is not None
                    self._admit(sel, pending, token)
                else:
                    self._answer_and_drop(sel, pending, pending.hello_id or 0,
                                          "refused: the user denied it")

    def _expire(self, sel: selectors.BaseSelector) -> Optional[float]:
        now = time.monotonic()
        soonest: Optional[float] = None
        for pending in list(self._pending.values()):
            left = pending.deadline - now
            if left <= 0:
                if pending.asking:
                    self._on_refused(pending.peer, pending.name, TIMED_OUT)
                    self._answer_and_drop(sel, pending, pending.hello_id or 0,
                                          f"refused: {TIMED_OUT}")
                else:
                    self._drop(sel, pending)
                continue
            soonest = left if soonest is None else min(soonest, left)
        return soonest

    def _write(self, pending: Pending, msg: list) -> None:
        if not framing.write_all(pending.sock, framing.frame(codec.encode(msg)),
                                 WRITE_TIMEOUT_S):
            raise framing.PeerClosed("it does not read its answers")

    def _answer_and_drop(self, sel: selectors.BaseSelector, pending: Pending, msgid: int,
                         why: str) -> None:
        try:
            self._write(pending, M.response(msgid, ["RuntimeError", f"hexsandbox: {why}"], None))
        except (framing.PeerClosed, OSError):
            pass
        self._drop(sel, pending)

    def _forget(self, sel: selectors.BaseSelector, pending: Pending) -> None:
        self._pending.pop(pending.sock.fileno(), None)
        try:
            sel.unregister(pending.sock)
        except (KeyError, ValueError):
            pass

    def _drop(self, sel: selectors.BaseSelector, pending: Pending) -> None:
        self._forget(sel, pending)
        pending.sock.close()
