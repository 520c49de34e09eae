"""The Perl worker's command line and socket (started by :mod:`hexsandbox.spawning`).

A Perl worker is started and watched exactly as a Python one
(``spawning._launch``: an exec, never a fork of HexChat; a session of its
own; a pidfd as its death notice; the watchdog); what differs is here: the
command (``perl worker.pl``), a socket pair instead of a ``multiprocess``
pipe, and the memory limit, set with ``prlimit`` on the child right after it
starts (core Perl has no ``setrlimit``, and ``preexec_fn`` is unsafe in
HexChat's threaded process; the few instructions before that are perl's own
start).
"""

from __future__ import annotations

import os
import resource
import shutil
import socket
from typing import List, Optional, Tuple

#: The Perl program shipped in the package.
WORKER_PL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.pl")


def is_perl_script(path: str) -> bool:
    """HexChat's Perl plugin takes files ending in .pl (any case)."""
    return path.lower().endswith(".pl")


def perl_executable() -> str:
    """``HEXSANDBOX_PERL``, else the ``perl`` on PATH, else /usr/bin/perl."""
    return os.environ.get("HEXSANDBOX_PERL") or shutil.which("perl") or "/usr/bin/perl"


def socket_pair() -> Tuple[socket.socket, socket.socket]:
    """(ours, the worker's): O_NONBLOCK belongs to the worker's end, set once here."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    theirs.setblocking(False)
    return ours, theirs


def command(script_path: str, fd: int, context: Optional[int], spin_us: int) -> List[str]:
    return [perl_executable(), WORKER_PL, "--fd", str(fd), "--parent", str(os.getpid()),
            "--ctx", "" if context is None else str(context), "--spin-us", str(max(0, spin_us)),
            "--script", script_path]


def limit_memory(pid: int, memory_limit_mb: int) -> None:
    if memory_limit_mb > 0:
        limit = memory_limit_mb * 1024 * 1024
        try:
            resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
        except (OSError, ProcessLookupError):
            pass
