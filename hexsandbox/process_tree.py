"""A worker and everything it starts end with it.

Each worker is the leader of its own session and process group (the
spawner starts it with ``setsid``; a zygote's child calls ``setsid()``
before the zygote answers with its pid), so one ``killpg`` ends the worker
and every process a script started (``sleep 1000``, a forked child, a
Python child), even after the worker itself has exited.

Three signals end a worker's group when HexChat goes away:

1. **parent-death signal** (Linux ``PR_SET_PDEATHSIG`` = SIGKILL, set first
   thing in a spawned worker and in a zygote): the kernel kills the process
   when the *thread* that spawned it exits, so they are spawned only from
   threads that live as long as HexChat (see ``spawning``); a parent that
   died before the call is caught by comparing ``getppid()`` with the
   expected parent. SIGKILL works on a busy-looping, sleeping or SIGSTOPped
   worker alike. A worker forked by a zygote has *no* parent-death signal:
   the kernel clears it in a forked child, and one aimed at the zygote would
   let a zygote crash take every script down. Such a worker ends with
   HexChat through (2) and (3) alone, which is why each is registered with
   the watchdog as soon as the zygote names it.
2. **pipe end of file**: the worker's receiver thread ends the group when the
   client's end of the pipe closes (``end_own_group``).
3. **the group watchdog** (:class:`GroupWatchdog`): one tiny process per
   sandbox, in its own session, that knows every worker's group and kills
   them all when HexChat's end of its pipe closes. It is what ends the
   children of a worker that was SIGKILLed by (1): those are orphans nobody
   else would signal.

A script may fork. The forked child inherits nothing of HexChat's: the
worker's pipe is replaced by ``/dev/null`` in the child and the runtime is
marked so it never answers (``after_fork_in_child``); there is no
``multiprocess`` sentinel or resource-tracker descriptor to inherit, because
workers are not started through ``multiprocess.Process`` at all.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import Callable, Dict, Optional

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(expected_parent: int, sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` when our parent dies; exit at once if
    it already has (we were reparented before the call)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if expected_parent and os.getppid() != expected_parent:
        os._exit(1)


def end_own_group() -> None:
    """The client is gone: end this worker's group (ourselves included)."""
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(1)


def end_group_on_hangup(conn_fd: int) -> None:
    """A thread that ends the worker's group when the client's end of the
    pipe closes. It polls only for the hang-up (``POLLRDHUP``), so it never
    takes data from the pipe's readers; a forked child has no such thread."""
    import select

    def watch() -> None:
        poller = select.poll()
        poller.register(conn_fd, select.POLLRDHUP)
        while True:
            for _fd, events in poller.poll():
                if events & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    end_own_group()

    threading.Thread(target=watch, name="hexsandbox-hangup", daemon=True).start()


def protect_fork(conn_fd: int, on_child: Callable[[], None]) -> None:
    """In a child forked by a script, replace the worker's pipe with
    ``/dev/null`` (so HexChat's end sees EOF only when the worker itself
    ends) and run ``on_child`` (which marks the runtime as not the worker)."""

    def after_in_child() -> None:
        try:
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, conn_fd)
            os.close(null)
        except OSError:
            pass
        on_child()

    os.register_at_fork(after_in_child=after_in_child)


def is_stopped(pid: Optional[int]) -> bool:
    """Whether ``pid`` is stopped (SIGSTOP, a debugger): it runs nothing,
    not even its unload hooks, until continued."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] in (b"T", b"t")
    except (OSError, IndexError):
        return False


def kill_group(pgid: Optional[int], sig: int = signal.SIGKILL) -> None:
    """Signal a worker's whole process group (worker and descendants).

    Safe after the worker was reaped: a pid still used as a process-group id
    is never handed out again, and an empty group is ESRCH."""
    if not pgid or pgid <= 1:
        return
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# The watchdog runs with ``python -S -c``: no hexsandbox import, so it starts
# in ~10 ms whatever the worker interpreter is. Lines on stdin: "+PGID" or
# "-PGID". End of file (HexChat exited, however) kills every known group.
_WATCHDOG_CODE = r"""
import os, signal, sys
groups = set()
for line in sys.stdin.buffer:
    line = line.strip()
    if line[:1] == b"+": groups.add(int(line[1:]))
    elif line[:1] == b"-": groups.discard(int(line[1:]))
for g in groups:
    try: os.killpg(g, signal.SIGKILL)
    except OSError: pass
"""


class GroupWatchdog:
    """One process that outlives HexChat just long enough to end every
    worker group when HexChat dies (even by SIGKILL)."""

    def __init__(self, python: Optional[str] = None) -> None:
        self._lock = threading.Lock()
        self._groups: Dict[int, bool] = {}
        self._proc: Optional[subprocess.Popen] = None
        try:
            self._proc = subprocess.Popen(
                [python or sys.executable, "-S", "-c", _WATCHDOG_CODE],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True)
        except OSError:
            self._proc = None  # without it, parent-death signals still apply

    @property
    def pid(self) -> Optional[int]:
        return self._proc.pid if self._proc else None

    def _tell(self, line: str) -> None:
        with self._lock:
            if self._proc is None or self._proc.stdin is None:
                return
            try:
                self._proc.stdin.write(line.encode() + b"\n")
                self._proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def watch(self, pgid: int) -> None:
        self._tell(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        self._tell(f"-{pgid}")

    def close(self, timeout: float = 0.5) -> None:
        """End the watchdog (killing any group still known) and reap it."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
