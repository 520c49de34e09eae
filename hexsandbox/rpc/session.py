"""One msgpack-RPC conversation with one peer, used by both ends.

The client (inside HexChat, one session per worker) and the Python worker
(one session with the client) share this class, so the conversation logic
exists once: framing, message ids, the pending-call table, serving the
peer's nested requests while a request waits, flow control, and cancelling
everything pending when the peer dies. (An external application speaking
docs/protocol.md can use it too.)

Threads. Each session has one *owner* thread that serves the peer's
requests and notifications (HexChat's main thread; the worker's callback
thread) and one *background reader* (the client's dispatcher thread, which
watches every session; the worker's receiver thread). Whoever reads the
socket decodes and routes under ``read_lock``:

* a response goes to the thread that waits for it (a queue for other
  threads, a reply slot for the owner); a response nobody waits for any more
  goes to the owner's inbox (the client reports a late hook answer);
* a method registered in ``immediate`` runs at once on the reading thread
  (the worker's ``ack``, ``stack``, ``context_closed``);
* everything else goes to the owner's inbox, in order.

While the owner waits for an answer it reads the socket itself (a thread
hand-off costs tens of microseconds, more than the rest of a hook round
trip); the background reader then steps aside (``paused``) and gets the
socket back through ``on_owner_done`` when the owner stops.

Reading never waits on a partial frame: every read takes the bytes that are
there into a reassembly buffer (:mod:`.framing`), so a peer that sends half
a frame costs its waiter at most its own deadline and nobody else anything.

Waiting. The owner waits for the peer in a blocking ``recv`` bounded by
``SO_RCVTIMEO`` (its deadline), everybody else never blocks
(``MSG_DONTWAIT`` reads and writes; the background readers wait in
``poll``). Why not ``poll`` for the owner too: on the 2-vCPU VM we measure
on, a ping-pong whose ends sleep in ``poll`` took 140-195 us a round trip
against 55-90 us for ends that sleep in ``recv``, the same code otherwise;
a sandboxed hook went from 180-240 us to 110-120 us (docs/benchmarks.md,
"Waiting in recv"). The kernel wakes a ``recv`` sleeper also when the peer
reads what it sent (``unix_write_space``), which ``poll`` filters out; that
costs a context switch, yet it keeps both ends on one CPU, where a wake-up
costs a few microseconds instead of a halted vCPU's 40-70. With a spin
configured (``spin_us``) the owner polls as before.

Flow control (``window``): each side may have at most ``window``
notifications its peer has not yet acknowledged (an ``ack`` notification
carries the count consumed). A sender over the window blocks in
:meth:`notify` until acks come; a receiver that sees a peer exceed it drops
that peer. So a script flooding ``command()`` from a thread is slowed in its
own process, and HexChat holds at most a window of its messages.
"""

from __future__ import annotations

import collections
import itertools
import queue
import socket
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple, Union

from ..spinwait import SpinWaiter
from . import codec, framing
from . import messages as M
from .trace import Trace

#: Default notification window (count and bytes).
WINDOW = 64
WINDOW_BYTES = 1024 * 1024

#: The owner, not a queue, waits for this msgid.
_OWNER = object()

_HEADER = framing.HEADER

_KIND_NAMES = {M.Request: "request", M.Response: "response", M.Notification: "notification"}


class SendRefused(RuntimeError):
    """``gate`` said no: this thread may not send any more."""


class SessionClosed(RuntimeError):
    """The peer is gone (or was dropped); nothing more can be sent or awaited."""


class Session:
    """See the module docstring. ``sock`` is a connected stream socket; the
    session does all its I/O from now on (and puts it in blocking mode, see
    "Waiting"); whoever made it still closes it."""

    def __init__(self, sock: socket.socket, *, peer: str = "peer", max_frame: int,
                 window: int = WINDOW, window_bytes: int = WINDOW_BYTES,
                 immediate: Optional[Dict[str, Callable[[M.Message], bool]]] = None,
                 send_timeout: Optional[float] = None, spin_us: int = 0,
                 acks: bool = False, yield_while_serving: bool = False,
                 max_out_frame: Optional[int] = None,
                 trace: Optional[Trace] = None) -> None:
        sock.settimeout(None)  # blocking: only the owner's wait blocks (MSG_DONTWAIT elsewhere)
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.reader = framing.FrameReader(max_frame)
        #: Requests, notifications and stray responses for the owner, in order.
        self.inbox: Deque[Tuple[M.Message, int, int]] = collections.deque()  # (message, size, seq)
        #: Every routed message gets the next number, so a response read in
        #: the same batch as earlier messages is returned only after them.
        self._seq = 0
        self.inbox_bytes = 0
        #: Bytes the owner has taken from the inbox so far (for its budgets).
        self.popped_bytes = 0
        self.read_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._window_cv = threading.Condition(self._send_lock)
        self.window = window
        self.window_bytes = window_bytes
        self._out_sizes: Deque[int] = collections.deque()  # our unacked notifications
        self._out_bytes = 0
        self._in_unacked = 0     # peer notifications received, not yet acked by us
        self._consumed = 0       # of those, taken by the owner (acked next flush)
        self._consumed_bytes = 0
        self.immediate = dict(immediate or {})
        #: This side acknowledges the peer's notifications and drops a peer
        #: that exceeds the window (the client; workers trust the client).
        self.acks = acks
        #: The owner stops counting as the reader while it serves a message
        #: in :meth:`wait` (the worker: a nested callback may run long, and
        #: other threads' answers must still be read meanwhile).
        self.yield_while_serving = yield_while_serving
        self.send_timeout = send_timeout
        self.owner_depth = 0     # > 0 while the owner thread reads the socket
        self.paused = False      # the background reader stepped aside
        #: Called (owner thread) when the owner stops reading and the
        #: background reader had stepped aside (give it the socket back), or
        #: messages it read are left in the inbox (serve them).
        self.on_owner_done: Optional[Callable[[], None]] = None
        #: Called (owner thread, no lock held) every time the owner stops
        #: reading, with whether another thread waits for an answer (the
        #: worker's standby reader, rpc/standby.py).
        self.on_owner_left: Optional[Callable[[bool], None]] = None
        #: Called when a thread will wait for bytes that only a reader
        #: brings: an answer to a thread that is not the owner, room in the
        #: window (the standby reader again).
        self.reader_needed: Optional[Callable[[], None]] = None
        self._pending: Dict[int, Any] = {}
        self._replies: Dict[int, Tuple[M.Response, int]] = {}
        self._ids = itertools.count(1)
        self.eof = False
        #: Why the peer was dropped (bad bytes, window overrun), or None.
        self.broken: Optional[str] = None
        self.closed = False
        self.waiter = SpinWaiter(spin_us)
        #: The SO_RCVTIMEO set last (None: for ever), for the owner's wait.
        self._receive_timeout: Optional[float] = None
        self.trace = trace
        #: A message bigger than this is refused before it is sent (the peer
        #: would drop us): ValueError naming the call, raised in the caller.
        self.max_out_frame = max_out_frame
        #: Asked under the send lock, right before a request or notification
        #: is written: False refuses it (SendRefused). The worker closes the
        #: door this way on its script's threads once it has read ``unload``,
        #: even for a thread that was already waiting for the window.
        self.gate: Optional[Callable[[], bool]] = None
        #: One-way items held for one batched notification (:meth:`hold`).
        self._held: List[Any] = []
        self._held_method = ""

    # ------------------------------------------------------------ state
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

    # ------------------------------------------------------------ sending
    def _encode(self, msg: list, method: str) -> bytes:
        body = codec.encode(msg)
        if self.max_out_frame is not None and len(body) > self.max_out_frame:
            from ..limits import refuse_oversized

            refuse_oversized(method, len(body), self.max_out_frame)
        return body

    def _write(self, body: bytes, kind: str, method: Optional[str], msgid: Optional[int]) -> None:
        """Write one frame (``_send_lock`` held), after the held batch if
        any: what was held keeps its place before whatever follows it."""
        if self.eof or self.broken or self.closed:
            raise SessionClosed(f"{self.peer} is gone")
        data = _HEADER.pack(len(body)) + body
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
                     waiter: Any = _OWNER) -> int:
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
        if waiter is not _OWNER and waiter is not None and self.reader_needed is not None:
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

    # ------------------------------------------------------------ receiving
    def _route(self, msg: M.Message, size: int) -> None:
        """Deliver one decoded message (``read_lock`` held)."""
        self._seq += 1
        if isinstance(msg, M.Response):
            waiter = self._pending.pop(msg.msgid, None)
            if waiter is _OWNER:
                self._replies[msg.msgid] = (msg, self._seq)
                return
            if waiter is not None:
                waiter.put(msg)
                return
        else:
            if self.acks and isinstance(msg, M.Notification):
                self._in_unacked += 1
                if self._in_unacked > self.window:
                    self.broken = (f"sent more than {self.window} one-way calls without "
                                   "waiting for them to be served")
                    return
            handler = self.immediate.get(msg.method)
            if handler is not None and not handler(msg):
                return
        self.inbox.append((msg, size, self._seq))
        self.inbox_bytes += size

    def _ingest(self, limit: int) -> int:
        """Read what is ready (at most ``limit`` bytes), decode and route it
        (``read_lock`` held). Never blocks."""
        if not self.alive:
            return 0
        try:
            data = framing.read_some(self.sock, limit)
        except framing.PeerClosed:
            self.eof = True
            return 0
        except OSError as exc:
            self.broken = f"its pipe failed: {exc}"
            return 0
        return self._take_in(data) if data else 0

    def _receive(self, timeout: Optional[float], limit: int) -> None:
        """Owner: wait in ``recv`` for bytes, at most ``timeout`` seconds
        (None: for ever), and route them. No lock is held while it waits:
        the owner is the only reader while ``owner_depth`` > 0."""
        self._set_receive_timeout(timeout)
        try:
            data = framing.read_some(self.sock, limit, block=True)
        except framing.PeerClosed:
            self.eof = True
            return
        except OSError as exc:
            self.broken = f"its pipe failed: {exc}"
            return
        if data:
            with self.read_lock:
                self._take_in(data)

    def _set_receive_timeout(self, timeout: Optional[float]) -> None:
        """SO_RCVTIMEO for the owner's wait, set again only when it is more
        than a millisecond off: a hook waits its script's whole deadline
        each time, a few microseconds less than the last one, and that must
        not cost a system call per hook. It may wait up to 1 ms past the
        deadline (the kernel's tick rounds it up as much again)."""
        current = self._receive_timeout
        if timeout is None:
            if current is None:
                return
        elif current is not None and -0.001 <= current - timeout <= 0.001:
            return
        try:
            framing.set_receive_timeout(self.sock, timeout)
        except OSError:
            return  # the socket is gone: the read says so
        self._receive_timeout = timeout

    def _take_in(self, data: bytes) -> int:
        """Decode and route the frames ``data`` completes (``read_lock`` held)."""
        try:
            bodies = self.reader.feed(data)
        except framing.FrameError as exc:
            self.broken = f"sent {exc}"
            return len(data)
        for body in bodies:
            try:
                msg = M.parse(codec.decode(body))
            except (codec.CodecError, M.ProtocolError) as exc:
                self.broken = f"sent a malformed message: {exc}"
                return len(data)
            if self.trace is not None:
                self.trace.record(self.peer, "in", _KIND_NAMES[type(msg)],
                                  getattr(msg, "method", None), getattr(msg, "msgid", None),
                                  len(body))
            self._route(msg, len(body))
            if not self.alive:
                break
        return len(data)

    def background_read(self, limit: int = 256 * 1024) -> bool:
        """The background reader's turn: False if it must stop watching the
        socket (the owner reads it, or the peer is gone or broken)."""
        with self.read_lock:
            if self.owner_depth:
                self.paused = True
                return False
            self._ingest(limit)
            return self.alive

    def pause_reading(self) -> None:
        """The background reader stops watching (the inbox is full enough);
        :meth:`resume` gives the socket back."""
        with self.read_lock:
            self.paused = True

    def resume(self) -> bool:
        """True if the background reader may watch the socket again."""
        with self.read_lock:
            if self.owner_depth or not self.paused:
                return False
            self.paused = False
            return True

    def wait(self, msgid: Optional[int], timeout: Optional[float],
             serve: Optional[Callable[[M.Message], None]] = None,
             read_limit: int = 1024 * 1024) -> Optional[M.Message]:
        """Owner thread: wait for the response to ``msgid``, serving every
        other message meanwhile with ``serve`` (nested calls); or, with
        ``msgid`` None, return the next message of the inbox.

        None on timeout or when the peer is gone. A frame that stays
        incomplete simply counts as no answer.
        """
        end = None if timeout is None else time.monotonic() + timeout
        replies, inbox = self._replies, self.inbox
        spin = self.waiter.enabled
        with self.read_lock:
            self.owner_depth += 1
        try:
            while True:
                if msgid is not None and msgid in replies:
                    reply, seq = replies[msgid]
                    if not inbox or inbox[0][2] > seq:
                        del replies[msgid]
                        return reply
                if inbox:
                    msg = self.pop_inbox()
                    if msg is not None:
                        if msgid is None:
                            return msg
                        if serve is not None:
                            if self.yield_while_serving:
                                self._serve_yielding(serve, msg)
                            else:
                                serve(msg)
                        continue
                if self.eof or self.broken or self.closed:
                    return None
                remaining = None
                if end is not None:
                    remaining = end - time.monotonic()
                    if remaining <= 0:
                        return None
                if not spin:
                    self._receive(remaining, read_limit)
                elif self.waiter.wait(self.fd, remaining):
                    with self.read_lock:
                        self._ingest(read_limit)
        finally:
            # Messages read after the answer stay queued: whoever serves the
            # inbox must hear of them, as of a paused reader. So must it of a
            # frame left unfinished: the background reader times those (and
            # may not have seen its bytes).
            self._owner_stops(left_behind=True)

    # ------------------------------------------------------------ fast paths
    # The hook round trip, both ends: one recv, one decode, nothing routed,
    # queued or dispatched when the frame that comes is the one awaited and
    # nothing else is queued (else the general :meth:`wait` takes over).
    # Measured: see docs/benchmarks.md, "The hook's fast path".

    def call(self, method: str, ctx: Optional[int], args: List[Any],
             timeout: Optional[float],
             serve: Optional[Callable[[M.Message], None]] = None) -> Tuple[int, Optional[M.Response]]:
        """Owner: :meth:`send_request`, then :meth:`wait` for its answer.
        Returns the msgid (for :meth:`abandon`) and the answer, or None."""
        msgid = self.send_request(method, ctx, args)
        if self.waiter.enabled or self.trace is not None:
            return msgid, self.wait(msgid, timeout, serve)  # type: ignore[return-value]
        end = None if timeout is None else time.monotonic() + timeout
        with self.read_lock:
            self.owner_depth += 1
            # Checked with the socket ours: a background reader may have
            # queued what the peer sent before the answer.
            queued = bool(self.inbox)
        try:
            data = b"" if queued else self._receive_bytes(timeout)
            if data:
                msg = self._whole_message(data)
                if type(msg) is M.Response and msg.msgid == msgid:
                    with self.read_lock:
                        self._pending.pop(msgid, None)
                    return msgid, msg
                if msg is not None:
                    with self.read_lock:
                        self._route(msg, len(data) - framing.HEADER.size)
            remaining = None if end is None else max(0.0, end - time.monotonic())
            return msgid, self.wait(msgid, remaining, serve)  # type: ignore[return-value]
        finally:
            self._owner_stops(left_behind=True)

    def next_or_serve(self, method: str,
                      serve: Callable[[Optional[int], List[Any]], Any]) -> Union[M.Message, None, bool]:
        """Owner, idle: the next message, as ``wait(None, None)`` -- except
        that a ``method`` request that comes alone while nothing is queued
        is answered here, with ``serve(ctx, args)`` as the result (the owner
        is away from the socket meanwhile, as in ``yield_while_serving``),
        and True is returned."""
        if self.waiter.enabled or self.trace is not None:
            return self.wait(None, None)
        with self.read_lock:
            self.owner_depth += 1
            queued = bool(self.inbox)  # see call()
        try:
            data = b"" if queued else self._receive_bytes(None)
            msg = self._whole_message(data) if data else None
            if type(msg) is M.Request and msg.method == method:
                handler = self.immediate.get(method)
                if handler is None or handler(msg):
                    self._owner_stops(left_behind=False)
                    try:
                        result = serve(msg.ctx, msg.args)
                    finally:
                        with self.read_lock:
                            self.owner_depth += 1
                    self.respond(msg.msgid, None, result)
                return True
            if msg is not None:
                with self.read_lock:
                    self._route(msg, len(data) - framing.HEADER.size)
        finally:
            self._owner_stops(left_behind=True)
        return self.wait(None, None)

    def _receive_bytes(self, timeout: Optional[float]) -> bytes:
        """Owner (``owner_depth`` held): what one waiting ``recv`` brings."""
        if not self.alive:
            return b""
        self._set_receive_timeout(timeout)
        try:
            return framing.read_some(self.sock, 1024 * 1024, block=True)
        except framing.PeerClosed:
            self.eof = True
        except OSError as exc:
            self.broken = f"its pipe failed: {exc}"
        return b""

    def _whole_message(self, data: bytes) -> Optional[M.Message]:
        """The message, if ``data`` is exactly one frame and nothing was
        buffered; otherwise it is taken in as usual and None returned."""
        try:
            body = self.reader.whole(data)
            if body is not None:
                return M.parse(codec.decode(body))
        except framing.FrameError as exc:
            self.broken = f"sent {exc}"
            return None
        except (codec.CodecError, M.ProtocolError) as exc:
            self.broken = f"sent a malformed message: {exc}"
            return None
        with self.read_lock:
            self._take_in(data)
        return None

    def _owner_stops(self, left_behind: bool) -> None:
        """The owner stops reading (one level). At the last level, tell
        ``on_owner_left``, and ``on_owner_done`` if the background reader
        stepped aside or (``left_behind``) the owner leaves read messages or
        part of a frame behind."""
        with self.read_lock:
            self.owner_depth -= 1
            left = self.owner_depth == 0
            hand_back = left and (self.paused or (left_behind and (
                bool(self.inbox) or self.reader.partial_since is not None)))
            others = (left and self.on_owner_left is not None and bool(self._pending)
                      and self._others_waiting())
        if left and self.on_owner_left is not None:
            self.on_owner_left(others)
        if hand_back and self.on_owner_done is not None:
            self.on_owner_done()

    def _serve_yielding(self, serve: Callable[[M.Message], None], msg: M.Message) -> None:
        self._owner_stops(left_behind=False)  # it serves the inbox itself
        try:
            serve(msg)
        finally:
            with self.read_lock:
                self.owner_depth += 1

    def _others_waiting(self) -> bool:
        """Whether a thread other than the owner waits for an answer (read_lock held)."""
        return any(w is not _OWNER and w is not None for w in self._pending.values())

    def abandon(self, msgid: int) -> None:
        """Nobody waits for ``msgid`` any more: its response, if it comes,
        goes to the inbox as a stray response."""
        with self.read_lock:
            self._pending.pop(msgid, None)
            stray = self._replies.pop(msgid, None)
            if stray is not None:
                self.inbox.append((stray[0], 0, stray[1]))

    def pop_inbox(self) -> Optional[M.Message]:
        """The owner's next queued message, or None (never reads)."""
        if not self.inbox:
            return None
        with self.read_lock:
            msg, size, _seq = self.inbox.popleft()
            self.inbox_bytes -= size
            self.popped_bytes += size
        if self.acks and isinstance(msg, M.Notification):
            self._consumed_one(size)
        return msg

    # ------------------------------------------------------------ ending
    def close(self, why: str = "closed") -> None:
        """Cancel everything pending: threads waiting for an answer get a
        ``SessionClosed`` error response; window waiters wake up."""
        with self.read_lock:
            self.closed = True
            waiters, self._pending = list(self._pending.values()), {}
        lost = M.Response(0, ["RuntimeError", f"hexsandbox: {why}"], None)
        for waiter in waiters:
            if waiter is not _OWNER and waiter is not None:
                waiter.put(lost)
        with self._window_cv:
            self._window_cv.notify_all()


def new_reply_queue() -> "queue.SimpleQueue[M.Response]":
    """Where a non-owner thread waits for its response."""
    return queue.SimpleQueue()
