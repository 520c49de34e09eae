"""A background reader on standby: it reads a session's socket only while the
owner thread has been away from it for a while, or when someone needs it now.

Why. A worker's callback thread (the session's owner) reads its own socket
while it is idle or waits for an answer, so a synchronous hook costs two
process wake-ups and nothing more. Something must still read while a
callback runs: the answers to the script's other threads, the client's
``ack`` (the sending window), ``stack`` and ``unload``. The first design had
a receiver thread that took the socket back every time the owner left it and
watched it until the owner came back; so every round trip woke that thread
too, once on the hand-back and once on the next message, and it then took
the GIL from the callback thread. Counted with /proc's context-switch
figures over 2,000 hook round trips, that thread woke 1.05-1.54 times per
hook and the callback thread was preempted 0.1-0.7 times; with the standby
reader the worker's only switch is its own wait, 1.1 per hook
(docs/benchmarks.md, "Waiting for an answer").

Now the reader sleeps on a kernel timer (``timerfd``) and the owner, when
it leaves the socket, only notes the time. The timer is armed ``GRACE_S``
ahead when the owner leaves and it is not armed already (one system call);
when it fires, the reader takes the socket if the owner has been away for
``GRACE_S`` since it last left, re-arms for the rest of that time if the
owner is away but not yet for long, and otherwise (the owner is reading)
goes back to sleep unarmed. So a stream of hooks costs one arm and one
reader wake-up per ``GRACE_S``, not one system call per hook (arming was
3 us hot and 10 us on the cold path of a hook, the dearest single step of
the worker's side), and a callback that runs longer gets a reader after
``GRACE_S`` to ``2 * GRACE_S``. Whoever needs an answer read sooner says so
(:meth:`Standby.needed`): a script thread that sent a request, a sender
waiting for the window.

``timerfd`` is Linux's (since 2.6.25), as are the pidfds, ``SO_PEERCRED``
and ``/proc`` the rest of hexsandbox uses, so there is no fallback.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import TYPE_CHECKING, Callable

from .framing import wait_readable

if TYPE_CHECKING:
    from .session import Session

#: How long the owner may stay away from the socket before the reader takes it.
GRACE_S = 0.010

_CLOCK_MONOTONIC = 1
_TFD_CLOEXEC = os.O_CLOEXEC
_TFD_NONBLOCK = os.O_NONBLOCK


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class WakeupTimer:
    """A one-shot ``timerfd``: :meth:`arm` from any thread without waking
    anybody; :meth:`wait` returns once the time armed last has passed."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._settime = libc.timerfd_settime
        self.fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_CLOEXEC | _TFD_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self._spec = _Itimerspec()
        self._ref = ctypes.byref(self._spec)
        self._lock = threading.Lock()

    def arm(self, seconds: float) -> None:
        """Fire ``seconds`` from now (at least 1 ns), replacing any earlier
        time. After :meth:`close` it does nothing (the descriptor's number
        may already belong to another file)."""
        ns = max(1, int(seconds * 1e9))
        with self._lock:
            if self.fd < 0:
                return
            self._spec.it_value.tv_sec, self._spec.it_value.tv_nsec = divmod(ns, 1_000_000_000)
            self._settime(self.fd, 0, self._ref, None)

    def wait(self) -> None:
        """Block until the timer fires. Only the reader thread waits, and it
        is the one that closes the timer, so the descriptor stays valid here."""
        wait_readable(self.fd, None)
        try:
            os.read(self.fd, 8)
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        """Release the descriptor (the reader thread, as it ends): one per
        session, so an application that connects in a loop must not keep
        them (the soak ran out of descriptors at 20,000 connections)."""
        with self._lock:
            fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class Standby:
    """The standby reader of one session (see the module docstring).

    ``session`` is a :class:`hexsandbox.rpc.session.Session`; :meth:`run` is
    the reader thread's body and calls ``on_lost`` once the peer is gone.
    """

    def __init__(self, session: "Session", on_lost: Callable[[], None]) -> None:
        self.session = session
        self.on_lost = on_lost
        self.timer = WakeupTimer()
        #: Guards ``_armed`` and ``_now``, so that a leave never finds the
        #: timer "armed" just as the reader decides it will not re-arm.
        self._lock = threading.Lock()
        self._armed = True
        self._now = False  # someone needs a reader at once
        self._left_at = time.monotonic()
        session.on_owner_left = self._owner_left
        session.reader_needed = self.needed
        # The script's top level runs before the owner ever reads: a reader
        # takes over after the grace period unless the owner is reading.
        self.timer.arm(GRACE_S)

    def _owner_left(self, others_waiting: bool) -> None:
        """The owner stopped reading: a reader after the grace period, or
        at once if another thread waits for an answer."""
        if others_waiting:
            self._wake_now()
            return
        with self._lock:
            self._left_at = time.monotonic()
            arm, self._armed = not self._armed, True
        if arm:
            self.timer.arm(GRACE_S)

    def needed(self) -> None:
        """Someone waits for bytes only a reader can bring (an answer to a
        thread that is not the owner, an ``ack`` for the window): read now
        unless the owner is reading anyway."""
        if not self.session.owner_depth:
            self._wake_now()

    def _wake_now(self) -> None:
        with self._lock:
            self._now = self._armed = True
        self.timer.arm(0)

    def _take_over(self) -> bool:
        """The timer fired: whether the reader takes the socket now (else
        it re-armed the timer, or leaves it unarmed: the owner reads)."""
        with self._lock:
            if self.session.owner_depth:
                self._armed = self._now = False
                return False
            left = self._left_at + GRACE_S - time.monotonic()
            if not self._now and left > 0:
                self.timer.arm(left)
                return False
            self._armed = self._now = False
            return True

    def run(self) -> None:
        session = self.session
        try:
            while session.alive:
                self.timer.wait()
                if not self._take_over():
                    continue
                # Read until the owner takes the socket again (background_read
                # says so) or the peer is gone.
                while session.alive and not session.owner_depth:
                    wait_readable(session.fd, None)
                    if not session.background_read():
                        break
        finally:
            self.timer.close()
            self.on_lost()
