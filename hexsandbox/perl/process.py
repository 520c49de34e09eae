"""Starting a Perl worker: ``perl worker.pl`` with one end of a socket pair.

The Python workers start through ``multiprocess``'s spawn; a Perl worker is a
plain exec of ``perl`` (never a fork of HexChat without exec), so this module
gives the client the same handle a spawned Python worker has: ``pid``, a
``sentinel`` fd that becomes readable when the process ends (a Linux pidfd,
which the dispatcher watches beside the socket), ``join`` and ``exitcode``
(negative for a signal, as ``multiprocessing`` reports it).

The memory limit is set with ``prlimit`` on the child right after it starts
(core Perl has no ``setrlimit``, and ``preexec_fn`` is unsafe in HexChat's
threaded process); the few instructions before that are ``perl``'s own start.
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
from typing import Optional

#: The Perl program shipped in the package.
WORKER_PL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.pl")


def is_perl_script(path: str) -> bool:
    """HexChat's Perl plugin takes files ending in .pl (any case)."""
    return path.lower().endswith(".pl")


def perl_executable() -> str:
    """``HEXSANDBOX_PERL``, else the ``perl`` on PATH, else /usr/bin/perl."""
    return os.environ.get("HEXSANDBOX_PERL") or shutil.which("perl") or "/usr/bin/perl"


class PerlProcess:
    """What the client needs of a worker process (as ``multiprocess.Process``)."""

    def __init__(self, popen: "subprocess.Popen[bytes]") -> None:
        self._popen = popen
        self.pid: Optional[int] = popen.pid
        self._pidfd: Optional[int] = os.pidfd_open(popen.pid)

    @property
    def sentinel(self) -> int:
        assert self._pidfd is not None
        return self._pidfd

    @property
    def exitcode(self) -> Optional[int]:
        return self._popen.poll()

    def join(self, timeout: Optional[float] = None) -> None:
        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        if self._pidfd is not None:
            os.close(self._pidfd)  # the dispatcher has stopped watching it
            self._pidfd = None

    def is_alive(self) -> bool:
        return self._popen.poll() is None


def start_perl_worker(script_path: str, *, context: Optional[int], stderr_path: str,
                      memory_limit_mb: int = 0, spin_us: int = 0) -> "tuple[PerlProcess, socket.socket]":
    """Start ``perl worker.pl`` for one script; returns (process, our socket)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.setblocking(False)  # O_NONBLOCK belongs to the worker's end, set once here
    with open(stderr_path, "ab") as err:
        popen = subprocess.Popen(
            [perl_executable(), WORKER_PL, "--fd", str(theirs.fileno()),
             "--ctx", "" if context is None else str(context), "--spin-us", str(max(0, spin_us)),
             "--script", script_path],
            stdin=subprocess.DEVNULL, stdout=err, stderr=err, pass_fds=(theirs.fileno(),),
            close_fds=True, start_new_session=False)
    theirs.close()
    if memory_limit_mb > 0:
        limit = memory_limit_mb * 1024 * 1024
        try:
            resource.prlimit(popen.pid, resource.RLIMIT_AS, (limit, limit))
        except (OSError, ProcessLookupError):
            pass
    return PerlProcess(popen), ours
