"""The sending half of a :class:`hexsandbox.rpc.session.Session`: frames,
the three message kinds, held batches, and the notification window.

A mixin of ``Session`` (one job per module; the session's state is
initialised in ``Session.__init__``, declared here for the type checker).
Every write holds ``send_lock`` for the whole frame and never blocks in the
kernel (:func:`hexsandbox.rpc.framing.write_all`): a peer that stops reading
costs a sender at most ``send_timeout``.
"""

from __future__ import annotations

import itertools
import socket
import threading
from typing import Any, Callable, Deque, Dict, List, Optional

from . import codec, framing
from . import messages as M
from .trace import Trace

#: In the pending-call table: the owner, not a queue, waits for this msgid.
OWNER = object()


class SendRefused(RuntimeError):
    """``gate`` said no: this thread may not send any more."""


class SessionClosed(RuntimeError):
    """The peer is gone (or was dropped); nothing more can be sent or awaited."""


class Sending:
    """See the module docstring."""

    # Initialised by Session.__init__.
    sock: socket.socket
    peer: str
    eof: bool
    broken: Optional[str]
    closed: bool
    trace: Optional[Trace]
    send_timeout: Optional[float]
    max_out_frame: Optional[int]
    gate: Optional[Callable[[], bool]]
    reader_needed: Optional[Callable[[], None]]
    read_lock: threading.Lock
    window: int
    window_bytes: int
    acks: bool
    _send_lock: threading.Lock
    _window_cv: threading.Condition
    _pending: Dict[int, Any]
    _ids: "itertools.count[int]"
    _held: List[Any]
    _held_method: str
    _out_sizes: Deque[int]
    _out_bytes: int
    _in_unacked: int
    _consumed: int
    _consumed_bytes: int

    @property
    def alive(self) -> bool:
        return not (self.eof or self.broken or self.closed)

    @property
    def send_lock(self) -> threading.Lock:
        """Held for the whole of each frame written; anything else that
        writes to the socket must hold it too, or frames interleave."""
        return self._send_lock

    def next_id(self) -> int:
        return next(self._ids) & 0xFFFFFFFF

    def _encode(self, msg: list, method: str) -> bytes:
        body = codec.encode(msg)
        if self.max_out_frame is not None and len(body) > self.max_out_frame:
            from ..limits import refuse_oversized

            refuse_oversized(method, len(body), self.max_out_frame)
        return body

    def _write(self, body: bytes, kind: str, method: Optional[str], msgid: Optional[int]) -> None:
        """Write one frame (``_send_lock`` held), after the held batch if
        any: what was held keeps its place before whatever follows it."""
        if not self.alive:
            raise SessionClosed(f"{self.peer} is gone")
        data = framing.frame(body)
        if self._held:
            data = self._take_held() + data
        self._write_data(data)
        if self.trace is not None:
            self.trace.record(self.peer, "out", kind, method, msgid, len(body))

    def _write_data(self, data: bytes) -> None:
        try:
            done = framing.write_all(self.sock, data, self.send_timeout)
        except (framing.PeerClosed, OSError) as exc:
            self.eof = True
            raise SessionClosed(f"{self.peer} is gone") from exc
        if not done:
            self.broken = f"stopped reading its messages for {self.send_timeout:.1f} s"
            raise SessionClosed(self.broken)

    # ------------------------------------------------------------ batching
    def hold(self, method: str, item: Any) -> int:
        """Queue ``item`` for one ``method`` notification carrying every item
        held (``[ctx=None, [item, ...]]``), written by :meth:`release` or
        just before anything else is written, so it keeps its place in the
        order. Bursts of one-way events cost one write and one decode, not
        one each. Returns how many items are held now."""
        with self._send_lock:
            held = self._held
            if method != self._held_method:
                if held:
                    self._write_data(self._take_held())
                    held = self._held
                self._held_method = method
            held.append(item)
            return len(held)

    def release(self) -> int:
        """Write the held batch now (if any); how many items it carried."""
        with self._send_lock:
            count = len(self._held)
            if count and self.alive:
                self._write_data(self._take_held())
            self._held = []
            return count

    def drop_held(self) -> int:
        """Forget the held batch (the peer is not reading); how many items."""
        with self._send_lock:
            count, self._held = len(self._held), []
            return count

    @property
    def held(self) -> int:
        return len(self._held)

    def _take_held(self) -> bytes:
        """The held batch as one frame (``_send_lock`` held)."""
        items, self._held = self._held, []
        body = codec.encode(M.notification(self._held_method, None, [items]))
        if self.trace is not None:
            self.trace.record(self.peer, "out", "notification", self._held_method, None, len(body))
        return framing.frame(body)

    def send_request(self, method: str, ctx: Optional[int], args: List[Any],
                     waiter: Any = OWNER) -> int:
        """Send a request; its response goes to ``waiter`` (a queue), by
        default to the owner's :meth:`wait`, or with None to the owner's
        inbox as a stray response (nobody waits for it)."""
        msgid = self.next_id()
        body = self._encode(M.request(msgid, method, ctx, args), method)
        with self._send_lock:
            if self.gate is not None and not self.gate():
                raise SendRefused(method)
            self._pending[msgid] = waiter
            try:
                self._write(body, "request", method, msgid)
            except BaseException:
                self._pending.pop(msgid, None)
                raise
        if waiter is not OWNER and waiter is not None and self.reader_needed is not None:
            self.reader_needed()
        return msgid

    def respond(self, msgid: int, error: Optional[List[str]], result: Any) -> None:
        try:
            body = self._encode(M.response(msgid, error, result), "reply")
        except (codec.CodecError, ValueError) as exc:
            body = codec.encode(M.response(msgid, [type(exc).__name__, str(exc)], None))
        with self._send_lock:
            self._write(body, "response", None, msgid)

    def notify(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        """Send a notification, blocking while the window is full (the
        peer's ``ack`` notifications, read by whichever thread reads, make
        room: :meth:`take_ack`)."""
        body = self._encode(M.notification(method, ctx, args), method)
        size = len(body)
        with self._window_cv:
            while self._out_sizes and (len(self._out_sizes) >= self.window
                                       or self._out_bytes + size > self.window_bytes):
                if not self.alive:
                    raise SessionClosed(f"{self.peer} is gone")
                if self.reader_needed is not None:
                    self.reader_needed()
                self._window_cv.wait(1.0)
            if self.gate is not None and not self.gate():
                raise SendRefused(method)
            self._write(body, "notification", method, None)
            self._out_sizes.append(size)
            self._out_bytes += size

    def notify_unwindowed(self, method: str, ctx: Optional[int], args: List[Any]) -> None:
        """A notification outside the window (``ack`` itself; the client's
        few control notifications)."""
        body = codec.encode(M.notification(method, ctx, args))
        with self._send_lock:
            self._write(body, "notification", method, None)

    def take_ack(self, count: int) -> None:
        """The peer consumed ``count`` of our notifications: room again."""
        with self._window_cv:
            for _ in range(min(count, len(self._out_sizes))):
                self._out_bytes -= self._out_sizes.popleft()
            self._window_cv.notify_all()

    def _consumed_one(self, size: int) -> None:
        """The owner took a peer notification from the inbox. Acks go out
        when half a window (count or bytes) has been taken, never more
        often: a sender is blocked only with more than half a window still
        on its way, and taking that in sends the ack (so no ack per message,
        which would be one more system call per one-way call)."""
        self._consumed += 1
        self._consumed_bytes += size
        if self._consumed >= self.window // 2 or self._consumed_bytes >= self.window_bytes // 2:
            self.flush_acks()

    def flush_acks(self) -> None:
        if not self._consumed or not self.alive:
            return
        count, self._consumed, self._consumed_bytes = self._consumed, 0, 0
        with self.read_lock:
            self._in_unacked -= count
        try:
            self.notify_unwindowed(M.ACK, None, [count])
        except SessionClosed:
            pass

