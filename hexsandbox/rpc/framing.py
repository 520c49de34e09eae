"""Frames on a byte stream: a 4-byte big-endian length, then one body.

Why our own framing rather than ``Connection.send_bytes``/``recv_bytes``:
``recv_bytes`` blocks until the whole frame has arrived, so a worker that
writes a header and half a body froze HexChat's main thread (issue 7). Here
each read takes only the bytes that are there (a waiting read waits at most
its caller's deadline, :func:`read_some`) into a per-peer reassembly
buffer: a partial frame costs nothing but the bytes already read, and the
length is checked against the limit as soon as the 4 header bytes are in,
before any byte of the body is kept, so an oversized frame drops the peer at
once. Writes never block (``MSG_DONTWAIT``), so the socket itself may be in
blocking mode for the one read that waits (see rpc/session.py, "Waiting").

Any language can speak it: ``struct.pack('>I', len(body)) + body``.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from typing import List, Optional

HEADER = struct.Struct(">I")

#: Bytes one ``recv`` asks for.
CHUNK = 256 * 1024
#: ... and the first one of a read: below glibc's mmap threshold (128 KiB),
#: so the buffer comes from the heap. Python allocates the whole size asked
#: for and shrinks it to what came; at 256 KiB that was an mmap, an mremap
#: and a munmap per hook in the worker (seen with strace), and a munmap in a
#: threaded process costs the other CPUs a TLB shoot-down.
FIRST_CHUNK = 64 * 1024

_DONTWAIT = socket.MSG_DONTWAIT
#: No SIGPIPE for a peer that is gone: an EPIPE error instead.
_SEND_FLAGS = socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL
_GONE = (errno.ECONNRESET, errno.EPIPE, errno.EBADF)
_TIMEVAL = struct.Struct("@ll")


class FrameError(ValueError):
    """The peer broke the framing (a frame over the limit)."""


class PeerClosed(EOFError):
    """The other end closed the stream."""


def frame(body: bytes) -> bytes:
    """Header plus body, ready to write."""
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Reassembles frames from the bytes of one peer, in order.

    ``feed`` never blocks and keeps at most one incomplete frame; ``partial``
    tells a caller whether bytes of an unfinished frame are waiting (and since
    when, for the per-frame deadline).
    """

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._need: Optional[int] = None  # body length of the frame being read
        #: time.monotonic() when the current unfinished frame started, or None.
        self.partial_since: Optional[float] = None

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def whole(self, data: bytes) -> Optional[bytes]:
        """The body, if ``data`` is exactly one whole frame and nothing is
        buffered before it (the common case: a hook's request or answer);
        else None, and ``data`` is for :meth:`feed`. Raises FrameError as
        :meth:`feed` does."""
        if self._need is not None or self._buf or len(data) < HEADER.size:
            return None
        (need,) = HEADER.unpack_from(data)
        if need != len(data) - HEADER.size:
            return None
        if need > self.max_frame:
            raise FrameError(f"a message of {need} bytes (the limit is {self.max_frame})")
        return data[HEADER.size:]

    def feed(self, data: bytes) -> List[bytes]:
        """Add bytes read from the peer; return the frames they complete.

        Raises FrameError when a header announces more than ``max_frame``.
        """
        body = self.whole(data)
        if body is not None:
            return [body]
        buf = self._buf
        buf += data
        out: List[bytes] = []
        pos = 0
        end = len(buf)
        while True:
            if self._need is None:
                if end - pos < HEADER.size:
                    break
                (need,) = HEADER.unpack_from(buf, pos)
                if need > self.max_frame:
                    raise FrameError(f"a message of {need} bytes (the limit is {self.max_frame})")
                self._need = need
                pos += HEADER.size
            if end - pos < self._need:
                break
            out.append(bytes(buf[pos:pos + self._need]))
            pos += self._need
            self._need = None
        if pos:
            del buf[:pos]
        if buf or self._need is not None:
            if self.partial_since is None or out:
                self.partial_since = time.monotonic()
        else:
            self.partial_since = None
        return out


def read_some(sock: socket.socket, limit: int, block: bool = False) -> bytes:
    """Up to ``limit`` bytes that are ready on ``sock``; b'' if none are.
    Raises PeerClosed at end of stream.

    ``block``: the first ``recv`` waits for bytes, at most the socket's
    ``SO_RCVTIMEO`` (:func:`set_receive_timeout`); b'' when that passes.
    Otherwise nothing waits (``MSG_DONTWAIT``, whatever the socket's mode).
    """
    want = min(FIRST_CHUNK, limit)
    try:
        data = sock.recv(want, 0 if block else _DONTWAIT)
    except BlockingIOError:  # nothing there (or SO_RCVTIMEO passed)
        return b""
    except OSError as exc:
        if exc.errno in _GONE:
            raise PeerClosed(str(exc)) from exc
        raise
    if not data:
        raise PeerClosed("end of stream")
    if len(data) < want or want == limit:
        return data  # the socket is drained for now (the common case)
    return _read_more(sock, limit, data)


def _read_more(sock: socket.socket, limit: int, first: bytes) -> bytes:
    chunks: List[bytes] = [first]
    got = len(first)
    while got < limit:
        want = min(CHUNK, limit - got)
        try:
            data = sock.recv(want, _DONTWAIT)
        except BlockingIOError:
            break
        except OSError as exc:
            if exc.errno in _GONE:
                break  # report it on the next call, after these bytes
            raise
        if not data:
            break  # report EOF on the next call, after these bytes
        chunks.append(data)
        got += len(data)
        if len(data) < want:
            break  # the socket is drained for now
    return b"".join(chunks)


def set_receive_timeout(sock: socket.socket, seconds: Optional[float]) -> None:
    """How long a blocking ``recv`` on ``sock`` waits (None: for ever). The
    kernel rounds it up to its clock tick (1-4 ms)."""
    if seconds is None:
        sec, usec = 0, 0  # 0 means no timeout
    else:
        micro = max(1, int(seconds * 1e6))
        sec, usec = divmod(micro, 1_000_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _TIMEVAL.pack(sec, usec))


def write_all(sock: socket.socket, data: bytes, timeout: Optional[float] = None) -> bool:
    """Write every byte to ``sock`` without ever blocking in a write
    (``MSG_DONTWAIT``), waiting for room as needed.

    With a ``timeout`` (seconds) gives up when it has passed without room
    and returns False: the client uses that so a worker that stopped reading
    its pipe cannot block HexChat. Raises PeerClosed if the peer is gone.
    """
    try:  # the common case: the socket has room for the whole frame
        n = sock.send(data, _SEND_FLAGS)
    except BlockingIOError:
        n = 0
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise PeerClosed(str(exc)) from exc
    if n == len(data):
        return True
    deadline = None if timeout is None else time.monotonic() + timeout
    view = memoryview(data)[n:]
    poller = None
    while view:
        try:
            n = sock.send(view, _SEND_FLAGS)
            view = view[n:]
            continue
        except BlockingIOError:
            pass
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise PeerClosed(str(exc)) from exc
        if poller is None:
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLOUT)
        if deadline is None:
            poller.poll()
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            poller.poll(left * 1000)
    return True


def wait_readable(fd: int, timeout: Optional[float]) -> bool:
    """Whether ``fd`` has bytes (or EOF) within ``timeout`` seconds."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    ms = None if timeout is None else max(0.0, timeout) * 1000
    return bool(poller.poll(ms))
