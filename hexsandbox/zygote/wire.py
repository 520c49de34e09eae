"""Messages between HexChat and a zygote: one JSON object per datagram.

The socket pair is ``AF_UNIX``/``SOCK_SEQPACKET``: datagrams keep their
boundaries and order, and carry descriptors (``SCM_RIGHTS``) with them.
A datagram larger than :data:`MAX_MESSAGE` arrives truncated
(``MSG_TRUNC``) and is refused, so decoding one costs at most a 64 KiB JSON
parse and builds nothing but plain JSON values. Descriptors beyond the ones
a message may carry are closed at once, never leaked.

Messages (``op`` names them):

=========== ============ ====================================================
direction   op           fields (descriptors)
=========== ============ ====================================================
to zygote   ``fork``     ``id``, ``config`` (WorkerConfig as a dict) (pipe, stderr)
from zygote ``ready``    ``pid`` (the zygote's own), ``threads`` (always 1)
from zygote ``forked``   ``id``, ``pid`` (a pidfd on the child)
from zygote ``failed``   ``id``, ``error`` (one line)
from zygote ``exited``   ``id``, ``code`` (multiprocessing convention)
=========== ============ ====================================================
"""

from __future__ import annotations

import array
import json
import os
import socket
from typing import Any, Dict, List, Optional, Sequence, Tuple

#: The largest datagram either side accepts (a WorkerConfig is < 2 KiB).
MAX_MESSAGE = 64 * 1024
#: The most descriptors one message carries (a fork request: pipe, stderr).
MAX_FDS = 2


class WireError(ValueError):
    """A datagram that is not one of ours: the peer is dropped."""


def socket_pair() -> Tuple[socket.socket, socket.socket]:
    """(HexChat's end, the zygote's end); both close on exec."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send(sock: socket.socket, message: Dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise WireError(f"zygote message of {len(data)} bytes is over {MAX_MESSAGE}")
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


def receive(sock: socket.socket) -> Optional[Tuple[Dict[str, Any], List[int]]]:
    """The next message and the descriptors it carried; None at end of file.

    Raises :class:`WireError` (descriptors already closed) for anything
    that is not a JSON object of at most :data:`MAX_MESSAGE` bytes."""
    data, fds, flags = _recv_fds(sock)
    if not data and not fds:
        return None
    try:
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            raise WireError("zygote message too long, or too many descriptors")
        try:
            message = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WireError(f"zygote message is not JSON: {exc}") from None
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            raise WireError("zygote message is not an object with an op")
    except WireError:
        close_all(fds)
        raise
    return message, fds


def _recv_fds(sock: socket.socket) -> Tuple[bytes, List[int], int]:
    """``socket.recv_fds``, with ``MSG_CMSG_CLOEXEC`` (which the stdlib's
    ignores in 3.11): a descriptor received is never inherited by a program
    either side starts (HexChat's ``os.system``, a worker's ``exec``)."""
    fds = array.array("i")
    data, ancdata, flags, _addr = sock.recvmsg(
        MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * fds.itemsize),
        getattr(socket, "MSG_CMSG_CLOEXEC", 0))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return data, list(fds), flags


def integer(message: Dict[str, Any], key: str) -> int:
    """A field that must be an int (bool is not)."""
    value = message.get(key)
    if type(value) is not int:
        raise WireError(f"zygote message {message.get('op')!r}: {key} is not an integer")
    return value


def close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
