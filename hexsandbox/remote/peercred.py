"""Who is on the other end of a Unix socket: SO_PEERCRED, and /proc for the rest.

The kernel fills SO_PEERCRED at ``connect()``; nothing the peer sends can
change it, so it is what the endpoint trusts for the uid check. The pid and
command line are only shown to the user (a process can exit and its pid be
reused, so they are never used for a decision).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_UCRED = struct.Struct("3i")  # pid_t pid; uid_t uid; gid_t gid


@dataclass(frozen=True)
class Peer:
    pid: int
    uid: int
    gid: int


def peer_of(sock: socket.socket) -> Peer:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return Peer(pid, uid, gid)


def command_line(pid: int, limit: int = 200) -> str:
    """``/proc/PID/cmdline`` as one line (arguments joined by spaces), cut to
    ``limit`` characters; '?' if it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(limit * 4)
    except OSError:
        return "?"
    text = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return (text[:limit] + "...") if len(text) > limit else (text or "?")
