"""Starting worker processes: never a fork of HexChat, one duplex pipe
each, in a session of its own.

Two ways, ``start`` (``[sandbox] start =`` in hexsandbox.ini, or the
``HEXSANDBOX_START`` environment variable when that says nothing):

* ``zygote`` (default): the interpreter's zygote forks the worker
  (:mod:`hexsandbox.zygote`; ready in milliseconds, memory shared); if that
  zygote cannot start or has died, the worker is spawned instead;
* ``spawn``: a fresh interpreter per worker, as described below.

Forking HexChat would copy its X connection and its threads into the child,
so a worker is a new interpreter (``subprocess`` fork+exec, with a
configurable Python) that inherits exactly one descriptor: its end of the
pipe (a Unix socket pair). No lock is shared across
processes, so a worker killed mid-write can only break its own pipe.

Why not ``multiprocess.Process``: its spawn hands each child a sentinel
pipe's write end and the resource tracker's descriptor. A script that forks
passes both to its child, so HexChat stops noticing the worker's death (a
zombie listed "stopped") and quit blocked in the tracker's ``waitpid`` until
the child died. Here the death notice is a pidfd (Linux 5.3+) that no child
can inherit, there is no tracker, and ``start_new_session`` makes the worker
the leader of its own process group before any of its code runs
(``process_tree`` explains the signals).
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import traceback
from dataclasses import asdict, dataclass
from typing import Any, Callable, Optional, Protocol, Tuple


from . import limits, process_tree, runtime_dirs, worker
from .config import START_MODES  # the ways to start a Python worker (Perl's are spawned)
from .perl import process as perl_process
from .zygote import client as zygote_client

COMPAT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")

# What the new interpreter runs: argv = [fd, expected parent pid, config JSON].
_BOOT = "from hexsandbox.spawning import boot; boot()"

#: Overrides the default start mode ("zygote") where nothing else says one.
START_ENV = "HEXSANDBOX_START"


def start_mode(start: Optional[str] = None) -> str:
    """``start`` if it names a mode, else ``$HEXSANDBOX_START`` (tests run
    both ways with it), else ``zygote``."""
    if start in START_MODES:
        return start  # type: ignore[return-value]
    env = os.environ.get(START_ENV, "").strip().lower()
    return env if env in START_MODES else "zygote"


class ProcessLike(Protocol):
    """What the client uses of a worker process, however it was started."""

    pid: int

    @property
    def sentinel(self) -> int: ...  # pragma: no cover

    @property
    def exitcode(self) -> Optional[int]: ...  # pragma: no cover

    def join(self, timeout: Optional[float] = None) -> Optional[int]: ...  # pragma: no cover

    def is_alive(self) -> bool: ...  # pragma: no cover


class WorkerProcess:
    """The parts of a process object the client uses (pid, sentinel, join,
    exitcode), over ``subprocess.Popen`` and a pidfd."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self._popen = popen
        self.pid: int = popen.pid
        self._pidfd: Optional[int]
        try:
            self._pidfd = os.pidfd_open(popen.pid)
        except (AttributeError, OSError):  # no pidfd: a pipe only the worker holds
            self._pidfd = None
        self._lock = threading.Lock()

    @property
    def sentinel(self) -> int:
        """Readable once the worker has exited (a pidfd: not inheritable)."""
        if self._pidfd is None:
            raise OSError("no pidfd on this system")
        return self._pidfd

    @property
    def exitcode(self) -> Optional[int]:
        """None while running; negative signal number if killed (as
        ``multiprocessing`` reports it)."""
        return self._popen.returncode

    def join(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait (bounded) for the worker to end, and reap it."""
        if self._popen.returncode is None:
            with self._lock:
                if self._pidfd is not None:
                    select.select([self._pidfd], [], [], timeout)
                    self._popen.poll()
                else:
                    try:
                        self._popen.wait(timeout)
                    except subprocess.TimeoutExpired:
                        pass
        return self._popen.returncode

    def is_alive(self) -> bool:
        return self._popen.poll() is None


@dataclass
class StartedWorker:
    process: ProcessLike  # WorkerProcess, or zygote.client.ZygoteWorkerProcess
    conn: Any             # our end of the duplex pipe (a socket)
    stderr_path: str

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid

    @property
    def sentinel(self) -> int:
        return self.process.sentinel


def private_runtime_dir() -> str:
    """A 0700 directory for worker stderr files; stale ones of a HexChat that
    died are removed first (``runtime_dirs``)."""
    return runtime_dirs.create()


#: Told how a job went: ``(result, None)`` or ``(None, error)``.
Done = Callable[[Any, Optional[BaseException]], None]


class _Spawner:
    """Starts workers from a thread that lives as long as the process.

    The parent-death signal fires when the *thread* that forked the worker
    ends, not the process: a worker started from a short-lived thread (a
    test's, a tool's) would be killed with that thread. The main thread
    never ends before the process, so it spawns directly; other threads hand
    the start to this one long-lived daemon thread and wait for it
    (:meth:`run`), or leave it a whole job and are told how it went
    (:meth:`submit`: a background start off HexChat's main thread). A spawn
    asked for on this thread itself (inside a job) runs at once: a second
    hand-off would wait on itself.
    """

    def __init__(self) -> None:
        self._jobs: "queue.SimpleQueue[Tuple[Callable[[], Any], Done]]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()

    def run(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` on a thread that lives as long as the process; its error is raised here."""
        current = threading.current_thread()
        if current is threading.main_thread() or current is self._thread:
            return fn()
        answer: "queue.SimpleQueue[Tuple[Any, Optional[BaseException]]]" = queue.SimpleQueue()
        self.submit(fn, lambda result, error: answer.put((result, error)))
        result, error = answer.get()
        if error is not None:
            raise error
        return result

    def submit(self, fn: Callable[[], Any], done: Done) -> None:
        """Queue ``fn`` for this thread; ``done(result, error)`` runs there after it."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="hexsandbox-spawner",
                                                daemon=True)
                self._thread.start()
        self._jobs.put((fn, done))

    def _serve(self) -> None:
        while True:
            fn, done = self._jobs.get()
            try:
                result, error = fn(), None
            except BaseException as exc:  # handed to done
                result, error = None, exc
            try:
                done(result, error)
            except BaseException:  # every later spawn waits on this thread: it must go on
                traceback.print_exc()


_SPAWNER = _Spawner()


def submit(fn: Callable[[], Any], done: Done) -> None:
    """Run ``fn`` (a whole start: :func:`start_worker` and what it needs) on
    the spawner thread without waiting; then ``done(result, error)`` runs on
    that thread too. Every spawn goes through that thread, so ``done`` should
    only hand the result on (HexChat's: ``backend.call_soon``). Jobs run in
    the order submitted."""
    _SPAWNER.submit(fn, done)


class _SharedWatchdog:
    """One group watchdog per process while any Sandbox runs (counted)."""

    def __init__(self) -> None:
        self.current: Optional[process_tree.GroupWatchdog] = None
        self._owners = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            self._owners += 1
            if self.current is None:
                self.current = process_tree.GroupWatchdog()

    def release(self) -> bool:
        """True when that was the last owner."""
        with self._lock:
            self._owners = max(0, self._owners - 1)
            if self._owners:
                return False
            watchdog, self.current = self.current, None
        if watchdog is not None:
            watchdog.close()
        return True


_WATCHDOG = _SharedWatchdog()


def acquire() -> None:
    """A Sandbox starts using workers: make sure the group watchdog runs."""
    _WATCHDOG.acquire()


def release() -> None:
    """A Sandbox has shut down; the last one ends the zygotes and the
    watchdog (it never blocks: the watchdog only has to read its end of
    file)."""
    if _WATCHDOG.release():
        _ZYGOTES.close()


def _launch_zygote(argv: list, control_fd: int) -> subprocess.Popen:
    """A zygote starts as a worker did: exec, own session, from the spawner
    thread (its parent-death signal is HexChat's), known to the watchdog."""
    popen = _SPAWNER.run(lambda: subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        pass_fds=(control_fd,), start_new_session=True, close_fds=True))
    if _WATCHDOG.current is not None:
        _WATCHDOG.current.watch(popen.pid)
    return popen


def _zygote_gone(pid: int) -> None:
    """A zygote was reaped: its group id may be handed out again."""
    if _WATCHDOG.current is not None:
        _WATCHDOG.current.forget(pid)


_ZYGOTES = zygote_client.ZygotePool(_launch_zygote, _zygote_gone)


def zygote_pid(python: Optional[str] = None) -> Optional[int]:
    """The pid of ``python``'s running zygote, if there is one (tests, status)."""
    return _ZYGOTES.zygote_pid(python or default_python())


def zygote_failure(python: Optional[str] = None) -> Optional[str]:
    """Why ``python``'s workers are spawned although the zygote mode is on."""
    return _ZYGOTES.failure(python or default_python())


def describe_start(start: Optional[str], python: Optional[str] = None) -> str:
    """How ``python``'s workers start, for ``/sandbox status -v``."""
    if start_mode(start) == "spawn":
        return "Python workers start as a fresh interpreter each ([sandbox] start = spawn)."
    why = zygote_failure(python)
    if why is not None:
        return f"Python workers are spawned: their zygote {why}."
    pid = zygote_pid(python)
    where = f" (pid {pid})" if pid else " (started with the first worker)"
    return f"Python workers are forked by a zygote{where}, sharing its memory."


def start_worker(script_path: str, *, context: Optional[int], python: Optional[str],
                 runtime_dir: str, memory_limit_mb: int = 0, spin_us: int = 0,
                 extra_calls: tuple = (), start: Optional[str] = None) -> StartedWorker:
    """Start one worker for ``script_path``; returns at once (the script loads
    in the background and reports ``loaded``/``load_failed``). A ``.pl``
    script gets the Perl worker; a Python one comes from its interpreter's
    zygote unless ``start`` (:func:`start_mode`) says spawn or the zygote
    cannot make it."""
    if perl_process.is_perl_script(script_path):
        return _start_perl_worker(script_path, context=context, runtime_dir=runtime_dir,
                                  memory_limit_mb=memory_limit_mb, spin_us=spin_us)
    interpreter = python or default_python()
    if start_mode(start) == "zygote":
        started = _start_in_zygote(script_path, interpreter, runtime_dir, context=context,
                                   memory_limit_mb=memory_limit_mb, spin_us=spin_us,
                                   extra_calls=extra_calls)
        if started is not None:
            return started
    parent_conn, child_conn = _socket_pair()
    fd, stderr_path = runtime_dirs.stderr_file(runtime_dir, script_path)
    config = _config(script_path, stderr_path, context=context, memory_limit_mb=memory_limit_mb,
                     spin_us=spin_us, extra_calls=extra_calls)
    child_fd = child_conn.fileno()
    argv = [interpreter, "-c", _BOOT, str(child_fd), str(os.getpid()), json.dumps(asdict(config))]
    try:
        popen = _launch(argv, child_fd, fd)
    finally:
        child_conn.close()
    return StartedWorker(WorkerProcess(popen), parent_conn, stderr_path)


def _socket_pair() -> Tuple[socket.socket, socket.socket]:
    """The worker's duplex channel: a Unix stream socket pair, which is all a
    ``multiprocess.Pipe(duplex=True)`` is on Linux. The session frames its
    own bytes on the raw descriptor, so no ``Connection`` object is needed,
    and not importing ``multiprocess`` (and ``dill`` under it) saves
    HexChat's main thread 25-300 ms at start (``python -X importtime``)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


def _config(script_path: str, stderr_path: str, *, context: Optional[int], memory_limit_mb: int,
            spin_us: int, extra_calls: tuple) -> worker.WorkerConfig:
    return worker.WorkerConfig(script_path=script_path, context=context,
                               stderr_path=stderr_path, memory_limit_mb=memory_limit_mb,
                               compat_dir=COMPAT_DIR, spin_us=spin_us,
                               extra_calls=worker.encode_calls(extra_calls))


def _start_in_zygote(script_path: str, python: str, runtime_dir: str, *, context: Optional[int],
                     memory_limit_mb: int, spin_us: int, extra_calls: tuple) -> Optional[StartedWorker]:
    """The worker forked by ``python``'s zygote, or None (nothing left behind:
    the caller spawns it on a fresh pipe, so a fork the zygote made too late
    holds a pipe nobody reads and ends at once)."""
    parent_conn, child_conn = _socket_pair()
    fd, stderr_path = runtime_dirs.stderr_file(runtime_dir, script_path)
    config = _config(script_path, stderr_path, context=context, memory_limit_mb=memory_limit_mb,
                     spin_us=spin_us, extra_calls=extra_calls)
    try:
        process = _ZYGOTES.fork(python, asdict(config), child_conn.fileno(), fd)
    finally:
        child_conn.close()
        os.close(fd)
    if process is None:
        parent_conn.close()
        try:
            os.unlink(stderr_path)
        except OSError:
            pass
        return None
    # Not the zygote's to end with it: its workers end with HexChat through
    # the pipe's end of file and this watchdog (process_tree).
    if _WATCHDOG.current is not None:
        _WATCHDOG.current.watch(process.pid)
    return StartedWorker(process, parent_conn, stderr_path)


def _start_perl_worker(script_path: str, *, context: Optional[int], runtime_dir: str,
                       memory_limit_mb: int, spin_us: int) -> StartedWorker:
    """``perl worker.pl`` (docs/perl.md) on one end of a socket pair, started
    and watched as a Python worker is."""
    ours, theirs = perl_process.socket_pair()
    fd, stderr_path = runtime_dirs.stderr_file(runtime_dir, script_path)
    argv = perl_process.command(script_path, theirs.fileno(), context, spin_us)
    try:
        popen = _launch(argv, theirs.fileno(), fd)
    finally:
        theirs.close()
    perl_process.limit_memory(popen.pid, memory_limit_mb)
    return StartedWorker(WorkerProcess(popen), ours, stderr_path)


def _launch(argv: list, child_fd: int, stderr_fd: int) -> subprocess.Popen:
    """Exec a worker in a session of its own with only ``child_fd``, its
    output into ``stderr_fd`` (closed here); the watchdog learns its pid."""
    try:
        popen = _SPAWNER.run(lambda: subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=stderr_fd, stderr=stderr_fd, pass_fds=(child_fd,),
            start_new_session=True, close_fds=True))
    finally:
        os.close(stderr_fd)
    if _WATCHDOG.current is not None:
        _WATCHDOG.current.watch(popen.pid)
    return popen


def boot() -> None:
    """A spawned worker interpreter's first code: parent-death signal, then
    :func:`run_worker`."""
    fd, parent, config_json = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    process_tree.set_parent_death_signal(parent)
    run_worker(fd, worker.WorkerConfig(**json.loads(config_json)))


def run_worker(fd: int, config: worker.WorkerConfig) -> None:
    """Every worker's boot, spawned or forked by a zygote: memory limit,
    hang-up watch, fork protection, then :func:`hexsandbox.worker.main`."""
    os.set_inheritable(fd, False)  # programs the script runs (os.system, exec) do not get it
    # Before any thread starts: a thread started under the limit gets no
    # 64 MB malloc arena reserved, so Python fits in far less address space.
    limits.apply_memory_limit(config.memory_limit_mb)
    process_tree.end_group_on_hangup(fd)
    process_tree.protect_fork(fd, _not_the_worker)
    sys.argv = ["<hexchat>"]
    worker.main(socket.socket(fileno=fd), config)


def _not_the_worker() -> None:
    """In a script's forked child: never answer HexChat (its pipe is
    /dev/null now); the next API call raises and the child leaves."""
    if worker.RUNTIME is not None:
        worker.RUNTIME.lost = True


def default_python() -> str:
    """The interpreter workers run with unless configured otherwise.

    Inside HexChat ``sys.executable`` is the system Python HexChat embeds;
    ``HEXSANDBOX_PYTHON`` (set by ``hexsandbox install``) overrides it.
    """
    return os.environ.get("HEXSANDBOX_PYTHON") or sys.executable


def kill(started: StartedWorker, sig: int = signal.SIGKILL) -> None:
    """SIGKILL ends the worker's whole process group (the worker and all it
    started); other signals (SIGUSR1 for stacks) go to the worker alone."""
    pid = started.process.pid
    if not pid:
        return
    if sig == signal.SIGKILL:
        process_tree.kill_group(pid)
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def ended(started: StartedWorker) -> None:
    """The worker has exited (or is being given up): end what it left in its
    group, and stop watching that group."""
    process_tree.kill_group(started.process.pid)
    started.process.join(0.5)
    if _WATCHDOG.current is not None:
        _WATCHDOG.current.forget(started.process.pid)


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
