"""The dispatcher thread: watches every worker socket and process sentinel.

It reads what workers send (never blocking on one: sockets are non-blocking
and partial frames wait in their session's reassembly buffer), decodes it
into that worker's inbox and asks the main thread (``backend.call_soon``) to
serve it. It never calls the backend API itself (HexChat's API is not
thread-safe).

It stops watching a socket when

* the main thread reads it itself (it waits for that worker's answer): the
  session gives the socket back through ``on_owner_done``;
* the worker's inbox holds more than ``INBOX_PAUSE_BYTES``: the main thread
  gives it back once it has served it (so a worker that ignores flow control
  fills its own socket buffer, not HexChat's memory);
* the worker is gone or broke the protocol.

A frame that stays incomplete longer than ``FRAME_DEADLINE_S`` drops the
worker with one line: nothing legitimate writes half a message and stops.
"""

from __future__ import annotations

import selectors
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

from ..wakepipe import WakePipe
from .records import Script

#: Stop reading a worker while this many bytes wait in its inbox.
INBOX_PAUSE_BYTES = 2 * 1024 * 1024

#: A frame started but unfinished for this long drops its worker.
FRAME_DEADLINE_S = 2.0

#: Bytes read from one worker per turn, so one busy worker cannot starve the others.
READ_PER_TURN = 256 * 1024


class Dispatcher:
    """One thread, one selector, every worker."""

    def __init__(self, *, on_readable: Callable[[Script], None],
                 on_died: Callable[[Script], None],
                 on_broken: Callable[[Script], None],
                 on_due: Callable[[Script], None]) -> None:
        self._on_readable = on_readable
        self._on_due = on_due
        self._on_died = on_died
        self._on_broken = on_broken
        self._lock = threading.Lock()
        self._new: List[Script] = []
        self._rewatch: List[Script] = []
        self._later: List[Tuple[float, Script]] = []  # (when, script): serve it then
        self._watched: Dict[int, Script] = {}   # id(script) -> script (dispatcher thread only)
        self._waker = WakePipe()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="hexsandbox-dispatcher", daemon=True)
        self._thread.start()

    # ---------------------------------------------------- any thread
    def watch(self, script: Script) -> None:
        """Start watching a new worker's socket and sentinel."""
        with self._lock:
            self._new.append(script)
        self.wake()

    def rewatch(self, script: Script) -> None:
        """Watch a socket again that was paused (its session said so)."""
        with self._lock:
            self._rewatch.append(script)
        self.wake()

    def serve_at(self, script: Script, when: float) -> None:
        """Call ``on_due(script)`` at ``when`` (time.monotonic()): the
        main thread serves a flooding worker again after a pause."""
        with self._lock:
            self._later.append((when, script))
        self.wake()

    def close(self) -> None:
        self._closing = True
        self.wake()
        self._thread.join(2.0)
        self._waker.close()

    def wake(self) -> None:
        """Make the thread look at its sockets and deadlines again."""
        self._waker.wake()

    # ---------------------------------------------------- dispatcher thread
    def _run(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._waker.read_fd, selectors.EVENT_READ, None)
        try:
            while not self._closing:
                self._take_changes(selector)
                timeout = _soonest(self._check_frame_deadlines(), self._serve_due())
                for key, _mask in selector.select(timeout):
                    if key.data is None:
                        self._waker.drain()
                        continue
                    script, what = key.data
                    if id(script) not in self._watched:
                        continue  # dropped earlier in this batch
                    if what == "pipe":
                        self._read(selector, script, key.fd)
                    else:
                        self._died(selector, script)
        finally:
            selector.close()

    def _take_changes(self, selector: selectors.BaseSelector) -> None:
        with self._lock:
            new, self._new = self._new, []
            rewatch, self._rewatch = self._rewatch, []
        for script in new:
            if script.worker is None or script.session is None:
                continue
            self._watched[id(script)] = script
            selector.register(script.session.fd, selectors.EVENT_READ, (script, "pipe"))
            if script.worker.sentinel is not None:  # None: an external app (no process of ours)
                selector.register(script.worker.sentinel, selectors.EVENT_READ, (script, "sentinel"))
        for script in rewatch:
            session = script.session
            if id(script) in self._watched and session is not None and session.alive:
                try:
                    selector.register(session.fd, selectors.EVENT_READ, (script, "pipe"))
                except (KeyError, ValueError, OSError):
                    pass  # already watched
            elif id(script) in self._watched and session is not None and script.external:
                self._died(selector, script)  # it hung up while the main thread read its socket

    def _read(self, selector: selectors.BaseSelector, script: Script, fd: int) -> None:
        session = script.session
        assert session is not None
        keep = session.background_read(READ_PER_TURN)
        if keep and session.inbox_bytes > INBOX_PAUSE_BYTES:
            session.pause_reading()
            keep = False
        if not keep:
            selector.unregister(fd)
        if session.broken:
            self._on_broken(script)
        elif session.inbox:
            self._on_readable(script)
        if not session.alive and script.external:
            # An external app has no process sentinel: the end of its stream
            # (or its broken session) is its death.
            self._died(selector, script)

    def _died(self, selector: selectors.BaseSelector, script: Script) -> None:
        session = script.session
        assert session is not None and script.worker is not None
        # What it sent before dying is still served, in order.
        if session.background_read(READ_PER_TURN * 4) and session.inbox:
            self._on_readable(script)
        for fd in (script.worker.sentinel, session.fd):
            try:
                selector.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
        del self._watched[id(script)]
        self._on_died(script)

    def _serve_due(self) -> Optional[float]:
        """Hand over the delayed serves that are due; seconds to the next."""
        now = time.monotonic()
        with self._lock:
            due = [script for when, script in self._later if when <= now]
            self._later = [(when, script) for when, script in self._later if when > now]
            left = min((when for when, _ in self._later), default=None)
        for script in due:
            self._on_due(script)
        return None if left is None else max(0.0, left - now)

    def _check_frame_deadlines(self) -> Optional[float]:
        """Drop workers whose unfinished frame is too old; the select
        timeout until the next such deadline (None: none pending)."""
        now = time.monotonic()
        soonest: Optional[float] = None
        for script in list(self._watched.values()):
            session = script.session
            since = session.reader.partial_since if session is not None else None
            if session is None or since is None or not session.alive:
                continue
            left = since + FRAME_DEADLINE_S - now
            if left <= 0:
                with session.read_lock:
                    if session.reader.partial_since == since:
                        session.broken = (f"sent an incomplete message ({session.reader.buffered} bytes), "
                                          f"then nothing for {FRAME_DEADLINE_S:.0f} s")
                if session.broken:
                    self._on_broken(script)
                continue
            soonest = left if soonest is None else min(soonest, left)
        return soonest


def _soonest(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None:
        return b
    return a if b is None else min(a, b)
