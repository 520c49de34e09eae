"""A self-pipe that wakes a thread sleeping in ``select``.

Used by the threads that watch many descriptors (the sandbox's dispatcher,
the local API's endpoint): other threads hand them work under a lock, then
wake them so that the new work is seen without polling.
"""

from __future__ import annotations

import os


class WakePipe:
    def __init__(self) -> None:
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)  # a full pipe is already a pending wake-up

    def wake(self) -> None:
        """Any thread: make ``read_fd`` readable."""
        try:
            os.write(self._write_fd, b"x")
        except OSError:
            pass

    def drain(self) -> None:
        """The woken thread: consume the wake-ups."""
        try:
            os.read(self.read_fd, 4096)
        except BlockingIOError:
            pass

    def close(self) -> None:
        for fd in (self.read_fd, self._write_fd):
            try:
                os.close(fd)
            except OSError:
                pass
