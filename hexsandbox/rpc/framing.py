"""Frames on a byte stream: a 4-byte big-endian length, then one body.

Why our own framing rather than ``Connection.send_bytes``/``recv_bytes``:
``recv_bytes`` blocks until the whole frame has arrived, so a worker that
writes a header and half a body froze HexChat's main thread (issue 7). Here
reading is non-blocking into a per-peer reassembly buffer: a partial frame
costs nothing but the bytes already read, and the length is checked against
the limit as soon as the 4 header bytes are in, before any byte of the body is
kept, so an oversized frame drops the peer at once.

Any language can speak it: ``struct.pack('>I', len(body)) + body``.
"""

from __future__ import annotations

import errno
import os
import select
import struct
import time
from typing import List, Optional

HEADER = struct.Struct(">I")

#: Bytes one ``os.read`` asks for.
CHUNK = 256 * 1024


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

    def feed(self, data: bytes) -> List[bytes]:
        """Add bytes read from the peer; return the frames they complete.

        Raises FrameError when a header announces more than ``max_frame``.
        """
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


def read_some(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes that are ready on a non-blocking ``fd``; b'' if
    none are. Raises PeerClosed at end of stream."""
    chunks: List[bytes] = []
    got = 0
    while got < limit:
        want = min(CHUNK, limit - got)
        try:
            data = os.read(fd, want)
        except BlockingIOError:
            break
        except InterruptedError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.EBADF):
                if chunks:
                    break
                raise PeerClosed(str(exc)) from exc
            raise
        if not data:
            if chunks:
                break  # report EOF on the next call, after these bytes
            raise PeerClosed("end of stream")
        chunks.append(data)
        got += len(data)
        if len(data) < want:
            break  # the socket is drained for now
    return b"".join(chunks)


def write_all(fd: int, data: bytes, deadline: Optional[float] = None) -> bool:
    """Write every byte to a non-blocking ``fd``, waiting for room as needed.

    With a ``deadline`` (time.monotonic()) gives up when it passes and
    returns False: the client uses that so a worker that stopped reading its
    pipe cannot block HexChat. Raises PeerClosed if the peer is gone.
    """
    try:  # the common case: the socket has room for the whole frame
        n = os.write(fd, data)
    except (BlockingIOError, InterruptedError):
        n = 0
    except (BrokenPipeError, ConnectionResetError) as exc:
        raise PeerClosed(str(exc)) from exc
    if n == len(data):
        return True
    view = memoryview(data)[n:]
    poller = None
    while view:
        try:
            n = os.write(fd, view)
            view = view[n:]
            continue
        except (BlockingIOError, InterruptedError):
            pass
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise PeerClosed(str(exc)) from exc
        if poller is None:
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
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
