"""Wait on a pipe by polling it briefly before sleeping, when that pays.

Why: a synchronous hook is two process wake-ups (client -> worker -> client),
and on the machines we measured waking a sleeping process on another CPU
costs 30-65 us, more than everything else in the round trip together. If the
waiting side keeps polling for a short while instead of sleeping, the answer
finds it awake: inside real HexChat, spinning 200 us took a 5,000-message
burst through a sandboxed hook from 0.74 s to 0.36 s (docs/benchmarks.md).

Spinning only pays while the other side runs on another CPU; when CPUs are
scarce it steals the time the other side needs. So it is adaptive, per pipe
end (a spin that ran out switches spinning off; a sleep that ended sooner
than a spin would have lasted switches it back on), and it is on by default
only with 4 or more CPUs. With 2 (our CI), HexChat, a worker and a desktop
already compete, and the test suite measured more timing noise with it; the
``spin_us`` setting turns it on anyway.
"""

from __future__ import annotations

import os
import select
import time
from typing import Any, Dict, Optional

#: The spin (microseconds) used where the user did not choose one.
SPIN_US_WITH_SPARE_CPUS = 200
SPARE_CPUS = 4


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_spin_us() -> int:
    return SPIN_US_WITH_SPARE_CPUS if usable_cpus() >= SPARE_CPUS else 0


class SpinWaiter:
    """``wait(fd, timeout)``: whether ``fd`` is readable within ``timeout``
    seconds, with the adaptive spinning described above. One per pipe end and
    waiting thread.

    The spin never outlasts the timeout: a 3 s ``spin_us`` with a 500 ms
    deadline still answers "nothing" after 500 ms (issue 8).
    """

    def __init__(self, spin_us: int = 0) -> None:
        self.budget = max(0, spin_us) / 1e6
        self.spinning = self.budget > 0
        self._polls: Dict[int, Any] = {}

    @property
    def enabled(self) -> bool:
        """False: ``wait`` is a plain poll, so a caller about to block anyway
        can skip it."""
        return self.budget > 0

    def _poll(self, fd: int, timeout: Optional[float]) -> bool:
        poller = self._polls.get(fd)
        if poller is None:
            poller = self._polls[fd] = select.poll()
            poller.register(fd, select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0.0, timeout) * 1000))

    def wait(self, fd: int, timeout: Optional[float]) -> bool:
        clock = time.perf_counter
        if self.spinning:
            spin = self.budget if timeout is None else min(self.budget, max(0.0, timeout))
            end = clock() + spin
            while True:
                if self._poll(fd, 0):  # a system call: releases the GIL
                    return True
                if clock() >= end:
                    break
            self.spinning = False  # it did not pay this time
            return self._poll(fd, None if timeout is None else max(0.0, timeout - spin))
        start = clock()
        ready = self._poll(fd, timeout)
        if ready and self.enabled and clock() - start < self.budget:
            self.spinning = True  # a spin would have caught it
        return ready
