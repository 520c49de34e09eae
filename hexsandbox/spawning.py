"""Starting worker processes: spawn (never fork), one duplex pipe each.

Forking HexChat would copy its X connection and its threads into the child,
so workers always start with the *spawn* method of :mod:`multiprocess`, with a
configurable Python executable. The pipe is private to one worker: no lock is
shared across processes, so a worker killed mid-write can only break its own
pipe.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Optional

import multiprocess
import multiprocess.spawn

from . import worker

#: set_executable() is global to the spawn context; starts are serialised.
_START_LOCK = threading.Lock()

_WORKER_PREFIX = "hexsandbox:"
_original_preparation_data = multiprocess.spawn.get_preparation_data


def _worker_preparation_data(name: str) -> dict:
    """What a spawned child is told about its parent, minus what a worker must
    not inherit.

    Spawn re-runs the parent's ``__main__`` in the child (``init_main_from_*``)
    and replaces the child's ``sys.path`` with the parent's. A worker needs
    neither: it must not run HexChat's or a tool's main module, and its
    interpreter (possibly another Python than HexChat's) already has
    hexsandbox installed. Other processes started with ``multiprocess`` are
    left alone: only names with our prefix are filtered.
    """
    data = _original_preparation_data(name)
    if name.startswith(_WORKER_PREFIX):
        for key in ("init_main_from_path", "init_main_from_name", "sys_path"):
            data.pop(key, None)
    return data


multiprocess.spawn.get_preparation_data = _worker_preparation_data

COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")


@dataclass
class StartedWorker:
    process: Any          # multiprocess.Process
    conn: Any             # our end of the duplex pipe
    stderr_path: str

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid

    @property
    def sentinel(self) -> int:
        return self.process.sentinel


def private_runtime_dir() -> str:
    """A 0700 directory for worker stderr files (crash reports read them)."""
    return tempfile.mkdtemp(prefix="hexsandbox-")


def start_worker(script_path: str, *, context: Optional[int], python: Optional[str],
                 runtime_dir: str, memory_limit_mb: int = 0, spin_us: int = 0,
                 extra_calls: tuple = ()) -> StartedWorker:
    """Spawn one worker for ``script_path``; returns at once (the script loads
    in the background and reports ``loaded``/``load_failed``)."""
    ctx = multiprocess.get_context("spawn")
    parent_conn, child_conn = ctx.Pipe(duplex=True)
    fd, stderr_path = tempfile.mkstemp(prefix="worker-", suffix=".stderr", dir=runtime_dir)
    os.close(fd)
    config = worker.WorkerConfig(script_path=script_path, context=context,
                                 stderr_path=stderr_path, memory_limit_mb=memory_limit_mb,
                                 compat_dir=COMPAT_DIR, spin_us=spin_us,
                                 extra_calls=tuple(extra_calls))
    name = _WORKER_PREFIX + os.path.basename(script_path)
    process = ctx.Process(target=worker.main, args=(child_conn, config), name=name, daemon=True)
    with _START_LOCK:
        ctx.set_executable(python or default_python())
        process.start()
    child_conn.close()
    return StartedWorker(process, parent_conn, stderr_path)


_live_owners = 0


def acquire() -> None:
    """A Sandbox starts using workers (counted, see :func:`release`)."""
    global _live_owners
    with _START_LOCK:
        _live_owners += 1


def release() -> None:
    """A Sandbox has shut down. When it was the last one, stop
    ``multiprocess``'s resource tracker: spawn starts it beside the first
    worker, workers register nothing with it, and left running it would
    outlive HexChat by a moment (a stray process at exit)."""
    global _live_owners
    with _START_LOCK:
        _live_owners = max(0, _live_owners - 1)
        if _live_owners:
            return
    from multiprocess import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        try:
            stop()
        except (OSError, ChildProcessError):
            pass


def default_python() -> str:
    """The interpreter workers run with unless configured otherwise.

    Inside HexChat ``sys.executable`` is the system Python HexChat embeds;
    ``HEXSANDBOX_PYTHON`` (set by ``hexsandbox install``) overrides it.
    """
    return os.environ.get("HEXSANDBOX_PYTHON") or sys.executable


def kill(started: StartedWorker, sig: int = signal.SIGKILL) -> None:
    try:
        if started.process.pid:
            os.kill(started.process.pid, sig)
    except ProcessLookupError:
        pass


def exit_description(exitcode: Optional[int]) -> str:
    """'exit code 3' or 'signal SIGSEGV (Segmentation fault)'."""
    if exitcode is None:
        return "unknown exit status"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
            return f"signal {sig.name} ({signal.strsignal(sig)})"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def stderr_tail(path: str, lines: int = 6, max_bytes: int = 16384) -> list:
    """The last non-empty lines a worker wrote to its stderr file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def crash_summary(stderr_path: str, script_path: str) -> list:
    """The few lines of a dead worker's stderr worth showing the user.

    For a fatal signal faulthandler writes "Fatal Python error: ..." and the
    stacks, most recent call first: show that line and the innermost frame in
    the script itself. Otherwise, the last lines written.
    """
    tail = stderr_tail(stderr_path, lines=200)
    fatal = [i for i, line in enumerate(tail) if line.startswith("Fatal Python error")]
    if not fatal:
        return tail[-6:]
    start = fatal[-1]
    summary = [tail[start].strip()]
    frames = [line.strip() for line in tail[start + 1:] if line.strip().startswith("File ")]
    in_script = [f for f in frames if script_path in f]
    if in_script or frames:
        summary.append((in_script or frames)[0])
    return summary
