"""``HEXSANDBOX_TRACE=FILE``: every message, both directions, one JSON line each.

Why: a script author wants to see what their script did over the wire (which
calls, how many, how big) without a debugger. The trace is opened in append
mode by every process that speaks the protocol (HexChat's side and each
worker), so one file holds the whole conversation; each line is written with
a single ``write`` call, which the kernel keeps whole for appends this small.

Line fields: ``t`` (Unix time, seconds), ``pid``, ``peer`` (the other side:
a script name, or "client"), ``dir`` ("in" or "out", seen from ``pid``),
``kind`` (request/response/notification), ``method`` (None for responses),
``msgid`` (None for notifications), ``bytes`` (frame body size).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Optional

ENV = "HEXSANDBOX_TRACE"


class Trace:
    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def record(self, peer: str, direction: str, kind: str, method: Optional[str],
               msgid: Optional[int], size: int) -> None:
        line = json.dumps({"t": round(time.time(), 6), "pid": self._pid, "peer": peer,
                           "dir": direction, "kind": kind, "method": method,
                           "msgid": msgid, "bytes": size}) + "\n"
        with self._lock:
            try:
                os.write(self._fd, line.encode())
            except OSError:
                pass  # a full disk must not break the sandbox


_opened: Optional[Trace] = None


def from_environment() -> Optional[Trace]:
    """The process's trace if ``HEXSANDBOX_TRACE`` names a file, else None."""
    global _opened
    path = os.environ.get(ENV)
    if not path:
        return None
    if _opened is None or _opened.path != path:
        try:
            _opened = Trace(path)
        except OSError:
            return None
    return _opened
