"""A misbehaving script stalls HexChat at most once a minute.

HexChat must wait for a hook's answer, because the answer may eat the event;
that wait is the only way a script can stall HexChat. The rule (see
docs/architecture.md, "Slow scripts"):

* A hook is **waited on** (at most the script's deadline) only if none of the
  script's answers was late in the last :data:`KEEP_UP_S` seconds and none of
  the events it was sent is outstanding past the deadline.
* Otherwise the event is **delivered one-way**: sent to the script, run
  there in order, its eat value ignored (the event passes uneaten). The
  client still times the answer; a late one restarts the 60 s.
* A waited hook that misses the deadline is the stall: the event passes
  uneaten, and the user is told once. By the first rule that is at most one
  stall per script per 60 s.

So a script "late twice in a row" is no longer waited on: after its first
late answer it is not waited on until it has kept up (every answer in time)
for 60 s, or until ``/sandbox restart``, which starts a fresh worker with a
fresh record. Waiting on the second event would only be a second stall.

One-way delivery must never block HexChat on a worker that stopped reading
(SIGSTOP): an event is sent only while the bytes queued in the pipe and not
yet read by the worker stay under a quarter of the socket's send buffer;
otherwise it is dropped and counted.
"""

from __future__ import annotations

import fcntl
import os
import socket
import stat
import termios
from typing import Dict, Optional

#: Seconds a script must keep up before HexChat waits for its hooks again.
KEEP_UP_S = 60.0
#: Unanswered one-way deliveries kept per script; beyond, events are dropped.
MAX_OUTSTANDING = 10000


class SlowRecord:
    """Per-script timing of answers (client side, main thread only)."""

    def __init__(self) -> None:
        self.last_late: Optional[float] = None
        self.one_way: Dict[int, float] = {}   # call id -> when it was sent
        self.dropped = 0                       # events not delivered (pipe full)
        self.delivered_one_way = 0

    def should_wait(self, now: float, deadline_s: float) -> bool:
        if self.last_late is not None and now - self.last_late < KEEP_UP_S:
            return False
        # Call ids grow, so the first entry is the oldest outstanding one.
        if not self.one_way:
            return True
        oldest = next(iter(self.one_way.values()))
        if now - oldest > deadline_s:
            self.last_late = now
            return False
        return True

    def stalled(self, now: float) -> None:
        """A waited hook missed its deadline."""
        self.last_late = now

    def late_answer(self, now: float) -> None:
        """The answer to a stalled call came, late."""
        self.last_late = now

    def can_send_one_way(self) -> bool:
        """At most :data:`MAX_OUTSTANDING` unanswered deliveries are kept
        (a script hung for hours must not grow HexChat's memory)."""
        return len(self.one_way) < MAX_OUTSTANDING

    def sent_one_way(self, call_id: int, now: float) -> None:
        self.one_way[call_id] = now
        self.delivered_one_way += 1

    def answered(self, call_id: int, now: float, deadline_s: float) -> bool:
        """An answer arrived; True if it was to a one-way delivery (then it is
        consumed here: its eat value no longer matters)."""
        sent = self.one_way.pop(call_id, None)
        if sent is None:
            return False
        if now - sent > deadline_s:
            self.last_late = now
        return True


def room_to_send(fd: int) -> bool:
    """Whether the worker is reading its pipe well enough that one more
    event cannot block us: less than a quarter of the send buffer queued."""
    try:
        mode = os.fstat(fd).st_mode
        buf = bytearray(4)
        if stat.S_ISSOCK(mode):
            fcntl.ioctl(fd, termios.TIOCOUTQ, buf)  # = SIOCOUTQ: not yet read by the peer
            with socket.socket(fileno=os.dup(fd)) as sock:
                limit = sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        else:
            fcntl.ioctl(fd, termios.FIONREAD, buf)
            limit = 65536
        queued = int.from_bytes(buf, "little", signed=True)
    except OSError:
        return False
    return queued < limit // 4
