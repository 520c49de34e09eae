"""HexChat's side of the zygotes: one per interpreter, and their workers.

:class:`ZygotePool` keeps one :class:`Zygote` per interpreter path (a PEP
723 environment's python is another path, so another zygote). A zygote that
cannot start, breaks its protocol, stops answering or dies is dropped, and
that interpreter's workers are spawned instead for the rest of the session
(until the last Sandbox shuts down). It is not restarted: whatever killed it
(the OOM killer, a user, a bug) can kill the next one, while spawning always
works and costs only time and memory. Callers fall back on ``None``.

Each zygote has one reader thread here. It files the zygote's answers
(``forked``: pid and pidfd) and every worker's exit status (``exited``) in
tables that :class:`ZygoteWorkerProcess` reads: a worker is the zygote's
child, so its status can come from nowhere else. If the zygote is gone, a
status never comes; waits for one are bounded and the exit code stays None.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from . import wire

#: How long the first request waits for a zygote to finish preloading (it
#: takes ~0.15 s here; a busy machine may take several times that).
BOOT_TIMEOUT_S = 5.0
#: How long a fork request waits for its answer (~1 ms when idle).
FORK_TIMEOUT_S = 2.0
#: join(None) waits this long for a status after the worker is gone.
STATUS_WAIT_S = 1.0

_SERVER = "from hexsandbox.zygote.server import main; main()"

#: Starts the zygote's interpreter: (argv, the descriptor it inherits) -> process.
Launch = Callable[[List[str], int], subprocess.Popen]


def _readable(fd: int, timeout: Optional[float]) -> bool:
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    except (OSError, ValueError):
        return True  # a closed pidfd: nothing left to wait for


class ZygoteWorkerProcess:
    """A zygote's worker, with the interface of ``spawning.WorkerProcess``
    (pid, sentinel, exitcode, join, is_alive)."""

    def __init__(self, zygote: "Zygote", request: int, pid: int, pidfd: int) -> None:
        self._zygote = zygote
        self._request = request
        self.pid: int = pid
        self._pidfd = pidfd
        self._code: Optional[int] = None

    @property
    def sentinel(self) -> int:
        """Readable once the worker has exited (a pidfd the zygote opened on
        its child before it could be reaped, so it names this process)."""
        return self._pidfd

    @property
    def exitcode(self) -> Optional[int]:
        """None while running, or if the zygote died before reporting it;
        negative signal number if killed (as ``multiprocessing`` reports it)."""
        if self._code is None:
            self._code = self._zygote.take_status(self._request)
        return self._code

    def join(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait (bounded) for the worker to exit, then for its status (within
        what is left of ``timeout``; the zygote sends it within a millisecond)."""
        if self.exitcode is not None:
            return self._code
        end = None if timeout is None else time.monotonic() + timeout
        if _readable(self._pidfd, timeout):
            left = STATUS_WAIT_S if end is None else max(0.0, end - time.monotonic())
            self._zygote.wait_status(self._request, left)
        return self.exitcode

    def is_alive(self) -> bool:
        return self.exitcode is None and not _readable(self._pidfd, 0)


class Zygote:
    """One zygote process, its control socket and its reader thread."""

    def __init__(self, python: str, launch: Launch,
                 on_gone: Callable[[int], None] = lambda pid: None) -> None:
        self.python = python
        ours, theirs = wire.socket_pair()
        try:
            self.popen = launch([python, "-c", _SERVER, str(theirs.fileno()), str(os.getpid())],
                                theirs.fileno())
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.pid = self.popen.pid
        #: Signals go through a pidfd: the reader thread reaps the zygote, and
        #: a bare pid could by then name another process.
        try:
            self._pidfd: Optional[int] = os.pidfd_open(self.pid)
        except OSError:  # no pidfds (Linux < 5.3): no zygote, workers are spawned
            self.popen.kill()
            self.popen.wait()
            ours.close()
            raise
        self._on_gone = on_gone
        #: Why it was dropped (None while usable).
        self.failure: Optional[str] = None
        self._cond = threading.Condition()
        self._ready = False
        self._send_lock = threading.Lock()
        self._next_request = 0
        self._answers: Dict[int, Union[Tuple[int, int], str]] = {}
        self._statuses: Dict[int, int] = {}
        self._reader = threading.Thread(target=self._read_forever, name="hexsandbox-zygote",
                                        daemon=True)
        self._reader.start()

    @property
    def usable(self) -> bool:
        return self.failure is None

    # ---------------------------------------------------------------- any thread
    def fork(self, config: Dict[str, Any], pipe_fd: int, stderr_fd: int) -> Optional[ZygoteWorkerProcess]:
        """A new worker running ``config`` on ``pipe_fd``; None if the zygote
        cannot make one (then it is dropped, unless only this fork failed).
        The caller keeps its descriptors: the zygote received copies."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready or self.failure is not None,
                                       BOOT_TIMEOUT_S):
                self._fail(f"not ready within {BOOT_TIMEOUT_S:g} s")
            if self.failure is not None:
                return None
            self._next_request += 1
            request = self._next_request
        try:
            with self._send_lock:
                wire.send(self.sock, {"op": "fork", "id": request, "config": config},
                          [pipe_fd, stderr_fd])
        except (BrokenPipeError, ConnectionResetError):
            # Its end of the socket closes only when it exits: it died
            # before the reader thread saw the end of file.
            self._fail("exited")
            return None
        except OSError as exc:
            self._fail(f"could not be asked for a worker ({exc})")
            return None
        with self._cond:
            if not self._cond.wait_for(lambda: request in self._answers or self.failure is not None,
                                       FORK_TIMEOUT_S):
                self._fail(f"did not fork within {FORK_TIMEOUT_S:g} s")
            answer = self._answers.pop(request, None)
        if isinstance(answer, tuple):
            pid, pidfd = answer
            return ZygoteWorkerProcess(self, request, pid, pidfd)
        return None  # "failed" (say EAGAIN): this worker is spawned instead

    def take_status(self, request: int) -> Optional[int]:
        with self._cond:
            return self._statuses.pop(request, None)

    def wait_status(self, request: int, timeout: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: request in self._statuses or self.failure is not None,
                                timeout)

    def close(self) -> None:
        """End the zygote (its workers live on: they are in sessions of their own)."""
        self._fail("closed")
        self._reader.join(1.0)

    # ---------------------------------------------------------------- reader thread
    def _read_forever(self) -> None:
        while True:
            try:
                got = wire.receive(self.sock)
            except wire.WireError as exc:
                self._fail(f"broke its protocol ({exc})")
                break
            except OSError:  # ECONNRESET: it died with a request unread
                got = None
            if got is None:
                self._fail("exited")
                break
            try:
                self._file(*got)
            except wire.WireError as exc:
                self._fail(f"broke its protocol ({exc})")
                break
        try:
            self.popen.wait(1.0)  # reap it (it was killed, or it is leaving)
        except subprocess.TimeoutExpired:
            pass
        else:
            self._on_gone(self.pid)
        self.sock.close()

    def _file(self, message: Dict[str, Any], fds: List[int]) -> None:
        op = message["op"]
        with self._cond:
            if self.failure is not None:  # dropped: a late answer is nobody's
                wire.close_all(fds)
                return
            if op == "ready" and not fds:
                self._ready = True
            elif op == "forked" and len(fds) == 1:
                self._answers[wire.integer(message, "id")] = (wire.integer(message, "pid"), fds[0])
            elif op == "failed" and not fds:
                self._answers[wire.integer(message, "id")] = str(message.get("error"))[:200]
            elif op == "exited" and not fds:
                self._statuses[wire.integer(message, "id")] = wire.integer(message, "code")
            elif op == "broken" and not fds:
                self.failure = "failed to start: " + str(message.get("error"))[-300:]
                self._cond.notify_all()
                return
            else:
                wire.close_all(fds)
                raise wire.WireError(f"unexpected zygote message {op!r}")
            self._cond.notify_all()

    def _fail(self, why: str) -> None:
        """Drop the zygote: nobody asks it again; waiters wake; it is killed
        (its workers are not: they lead sessions of their own)."""
        with self._cond:
            if self.failure is None:
                self.failure = why
            self._cond.notify_all()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # the reader thread sees end of file
        except OSError:
            pass
        with self._cond:
            pidfd, self._pidfd = self._pidfd, None
        if pidfd is not None:
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except OSError:
                pass  # already gone
            os.close(pidfd)


class ZygotePool:
    """One zygote per interpreter path, started on first use."""

    def __init__(self, launch: Launch, on_gone: Callable[[int], None] = lambda pid: None) -> None:
        self._launch = launch
        self._on_gone = on_gone  # a zygote was reaped (its pid no longer names it)
        self._lock = threading.Lock()
        self._zygotes: Dict[str, Zygote] = {}
        #: Interpreters whose zygote failed: spawn for the rest of the session.
        self.failed: Dict[str, str] = {}

    def fork(self, python: str, config: Dict[str, Any], pipe_fd: int,
             stderr_fd: int) -> Optional[ZygoteWorkerProcess]:
        with self._lock:
            if python in self.failed:
                return None
            zygote = self._zygotes.get(python)
            if zygote is None:
                try:
                    zygote = self._zygotes[python] = Zygote(python, self._launch, self._on_gone)
                except OSError as exc:
                    self.failed[python] = f"could not start ({exc})"
                    return None
            process = zygote.fork(config, pipe_fd, stderr_fd)
            if not zygote.usable:
                self.failed[python] = zygote.failure or "failed"
                del self._zygotes[python]
            return process

    def zygote_pid(self, python: str) -> Optional[int]:
        """The running zygote of ``python`` (for tests and status), if any."""
        zygote = self._zygotes.get(python)
        return zygote.pid if zygote is not None and zygote.usable else None

    def failure(self, python: str) -> Optional[str]:
        """Why ``python``'s zygote was dropped this session (None: it was not)."""
        return self.failed.get(python)

    def close(self) -> None:
        """The last Sandbox shut down: end every zygote and forget failures."""
        with self._lock:
            zygotes, self._zygotes = list(self._zygotes.values()), {}
            self.failed.clear()
        for zygote in zygotes:
            zygote.close()
