"""One msgpack-RPC conversation with one peer, used by both ends.

The client (inside HexChat, one session per worker) and the Python worker
(one session with the client) share this class, so the conversation logic
exists once: framing, message ids, the pending-call table, serving the
peer's nested requests while a request waits, flow control, and cancelling
everything pending when the peer dies. (An external application speaking
docs/protocol.md can use it too.) The sending half (frames, batches, the
window) is :mod:`.sending`, the hook's fast path :mod:`.fast_path`; both are
mixins of :class:`Session`.

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
``SO_RCVTIMEO`` (25 ms slices up to its deadline: a caught signal restarts
the kernel's timeout; the last 50 ms in ``poll``), everybody else never blocks
(``MSG_DONTWAIT`` reads and writes; the background readers wait in
``poll``). Why not ``poll`` for the owner too: on the 2-vCPU VM we measure
on, with the two ends pinned to different vCPUs, a hook-sized msgpack
ping-pong took 74 us a round trip with ends that sleep in ``recv`` against
364 us in ``poll``, and the sandboxed hook 119-161 us against 437-463 us;
on one vCPU the waits were equal (docs/benchmarks.md, "The hook's fast
path"; ``benchmarks/wait_primitives.py --pin cross``). The VM moves between
the two by itself. The price: the kernel also wakes a ``recv``
sleeper when the peer reads what it sent (``unix_write_space``), which
``poll`` filters out, so each side switches 1.4-1.7 times per hook instead
of 1.0. With a spin configured (``spin_us``) the owner polls as before.

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
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from ..spinwait import SpinWaiter
from . import codec, framing
from . import messages as M
from .fast_path import FastPaths
from .sending import OWNER as _OWNER
from .sending import SendRefused, Sending, SessionClosed
from .trace import Trace

__all__ = ["Session", "SendRefused", "SessionClosed", "new_reply_queue", "WINDOW", "WINDOW_BYTES"]

#: A wait shorter than this (seconds) polls, and a longer one waits in
#: ``recv`` slices of at most ``RECV_SLICE_S``: see ``_read_bytes``.
EXACT_WAIT_BELOW_S = 0.050
RECV_SLICE_S = 0.025

#: Default notification window (count and bytes).
WINDOW = 64
WINDOW_BYTES = 1024 * 1024

_KIND_NAMES = {M.Request: "request", M.Response: "response", M.Notification: "notification"}


class Session(Sending, FastPaths):
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

    def _ingest(self, limit: int) -> None:
        """Read what is ready (at most ``limit`` bytes), decode and route it
        (``read_lock`` held). Never blocks."""
        data = self._read_bytes(0.0, limit)
        if data:
            self._take_in(data)

    def _receive(self, timeout: Optional[float], limit: int) -> None:
        """Owner: wait in ``recv`` for bytes, at most ``timeout`` seconds
        (None: for ever), and route them."""
        data = self._read_bytes(timeout, limit)
        if data:
            with self.read_lock:
                self._take_in(data)

    def _read_bytes(self, timeout: Optional[float], limit: int = 1024 * 1024) -> bytes:
        """What one read brings: at once (``timeout`` 0), waiting at most
        ``timeout`` seconds, or for ever (None); b'' when nothing came or the
        peer is gone. A waiting read is the owner's, and no lock is held
        while it waits: the owner is the only reader while ``owner_depth``
        > 0."""
        if not self.alive:
            return b""
        try:
            if timeout == 0:
                return framing.read_some(self.sock, limit)
            if timeout is not None and timeout < EXACT_WAIT_BELOW_S:
                # SO_RCVTIMEO counts in kernel ticks and ends up to two late
                # (a 1 ms timeout took 8 ms here, 100 ms took 104): a short
                # wait polls instead, whose timer is exact.
                if not framing.wait_readable(self.fd, timeout):
                    return b""
                return framing.read_some(self.sock, limit)
            # A bounded wait blocks RECV_SLICE_S at a time (the caller
            # loops): a caught signal interrupts the recv, and Python's retry
            # starts the kernel's timeout afresh, so one slice, not the whole
            # deadline, is what it can add.
            self._set_receive_timeout(None if timeout is None else RECV_SLICE_S)
            return framing.read_some(self.sock, limit, block=True)
        except framing.PeerClosed:
            self.eof = True
        except OSError as exc:
            self.broken = f"its pipe failed: {exc}"
        return b""

    def _set_receive_timeout(self, timeout: Optional[float]) -> None:
        """SO_RCVTIMEO for the owner's wait (None: for ever), set only when
        it changes: it is the one slice length or None, so a stream of hooks
        sets it once."""
        if timeout == self._receive_timeout:
            return
        try:
            framing.set_receive_timeout(self.sock, timeout)
        except OSError:
            return  # the socket is gone: the read says so
        self._receive_timeout = timeout

    def _take_in(self, data: bytes) -> None:
        """Decode and route the frames ``data`` completes (``read_lock`` held)."""
        try:
            bodies = self.reader.feed(data)
        except framing.FrameError as exc:
            self.broken = f"sent {exc}"
            return
        for body in bodies:
            msg = self._parse(body)
            if msg is None:
                return
            self._route(msg, len(body))
            if not self.alive:
                return

    def _take_one(self, data: bytes, wanted: Callable[[M.Message], bool]) -> Optional[M.Message]:
        """Owner (the only reader now): take ``data`` in, except that a
        message ``wanted`` says yes to, if ``data`` is exactly that one
        frame with nothing buffered before it, is returned instead of
        routed (the fast path: nothing queued, no lock while decoding)."""
        try:
            body = self.reader.whole(data)
        except framing.FrameError as exc:
            self.broken = f"sent {exc}"
            return None
        if body is None:
            with self.read_lock:
                self._take_in(data)
            return None
        msg = self._parse(body)
        if msg is None or wanted(msg):
            return msg
        with self.read_lock:
            self._route(msg, len(body))
        return None

    def _parse(self, body: bytes) -> Optional[M.Message]:
        """One frame body as a checked message, traced; None (and the peer
        dropped) if it is not one."""
        try:
            msg = M.parse(codec.decode(body))
        except (codec.CodecError, M.ProtocolError) as exc:
            self.broken = f"sent a malformed message: {exc}"
            return None
        if self.trace is not None:
            self.trace.record(self.peer, "in", _KIND_NAMES[type(msg)],
                              getattr(msg, "method", None), getattr(msg, "msgid", None),
                              len(body))
        return msg

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
                if not self.alive:
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
