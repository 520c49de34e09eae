"""The zygote process: preload once, then fork one worker per request.

Started by :mod:`hexsandbox.zygote.client` the way workers used to be
(``python -c``, ``start_new_session``, from the long-lived spawner thread),
with argv = [control socket fd, HexChat's pid]. It

1. sets its parent-death signal (it dies with HexChat; its workers do not:
   the kernel clears that setting in a forked child);
2. turns the garbage collector off and imports everything a worker imports
   (:data:`PRELOAD`), then ``gc.freeze()``: the preloaded objects move to
   the permanent generation, so a collection in a worker never writes their
   headers and their pages stay shared;
3. starts **no thread** (a fork copies only the forking thread; a lock
   another thread held would stay locked in every worker) and says ``ready``;
4. serves ``fork`` requests and reports each child's end (``exited``).

A worker is this process's child, so only this process can reap it: SIGCHLD
wakes the loop through ``signal.set_wakeup_fd`` and ``waitpid`` collects
every status. HexChat learns of the death first from the pidfd sent with
``forked`` (opened here before any reap, so it always names the right
process) and then of the status from ``exited``.
"""

from __future__ import annotations

import gc
import importlib
import os
import select
import signal
import socket
import sys
import threading
import traceback
from typing import Any, Dict

from . import wire

#: What a worker imports before the script runs (hexsandbox.spawning pulls in
#: hexsandbox.worker, the proxy and the RPC stack), and stdlib
#: modules scripts commonly use: cheap to hold once, each costs every worker
#: that imports it on its own ~0.1-1 MB. Left out on purpose: ssl and what
#: imports it (urllib.request, http.client): OpenSSL state is not something
#: to share across forks when a script does not ask for it.
PRELOAD = (
    "hexsandbox.spawning", "hexsandbox.worker", "hexsandbox.script_loading",
    "re", "json", "threading", "time", "datetime", "collections", "functools",
    "itertools", "random", "string", "textwrap", "traceback", "subprocess", "socket",
    "select", "shlex", "struct", "base64", "hashlib", "urllib.parse", "html",
    "pathlib", "tempfile", "shutil", "queue", "contextlib", "enum", "math", "codecs",
    "typing", "dataclasses", "weakref", "io", "locale", "platform", "uuid",
)


def main() -> None:
    """Entry point: ``python -c "from hexsandbox.zygote.server import main; main()" FD PID``."""
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
    from .. import process_tree

    process_tree.set_parent_death_signal(parent)
    control = socket.socket(fileno=fd)
    control.set_inheritable(False)
    try:
        preload()
        threads = _threads()
        if threads != 1:  # native threads count too: /proc, not threading
            raise RuntimeError(f"{threads} threads after preloading; a zygote forks from its only one")
        Zygote(control).serve()
    except BaseException:  # told to HexChat, which then spawns instead
        try:
            wire.send(control, {"op": "broken", "error": traceback.format_exc(limit=3)[-2000:]})
        except OSError:
            pass
        os._exit(1)
    os._exit(0)


def _threads() -> int:
    """Threads of this process, native ones included."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def preload() -> None:
    gc.disable()  # no freed holes in pages the workers will share
    for name in PRELOAD:
        importlib.import_module(name)
    gc.freeze()


class Zygote:
    """The request loop (one thread: this process's only one)."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.children: Dict[int, int] = {}  # pid -> the request id that made it
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.signal(signal.SIGCHLD, lambda _sig, _frame: None)
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)

    def serve(self) -> None:
        wire.send(self.control, {"op": "ready", "pid": os.getpid(), "threads": _threads()})
        poller = select.poll()
        poller.register(self.control.fileno(), select.POLLIN)
        poller.register(self.wake_r, select.POLLIN)
        while True:
            for fd, events in poller.poll():
                if fd == self.wake_r:
                    self._reap()
                elif events & select.POLLIN:
                    if not self._take_request():
                        return
                else:  # POLLHUP/POLLERR without data: HexChat is gone
                    return

    def _take_request(self) -> bool:
        """One request; False once HexChat has closed its end."""
        try:
            got = wire.receive(self.control)
        except (wire.WireError, OSError):
            return False  # HexChat's own end is trusted: garbage means it is broken
        if got is None:
            return False
        message, fds = got
        if message.get("op") != "fork" or len(fds) != 2 or not isinstance(message.get("config"), dict):
            wire.close_all(fds)
            return False
        request = wire.integer(message, "id")
        try:
            pid = self._fork(request, message["config"], fds[0], fds[1])
        except OSError as exc:
            wire.send(self.control, {"op": "failed", "id": request, "error": str(exc)})
        else:
            self.children[pid] = request
        finally:
            wire.close_all(fds)  # the child has its copies; ours go at once
        return True

    def _fork(self, request: int, config: Dict[str, Any], pipe_fd: int, stderr_fd: int) -> int:
        """Fork one worker; returns once it leads its own session, so that
        HexChat's ``killpg(pid)`` can never miss it."""
        in_session_r, in_session_w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = os.fork()
        except OSError:
            wire.close_all((in_session_r, in_session_w))
            raise
        if pid == 0:
            os.close(in_session_r)
            self._become_worker(config, pipe_fd, stderr_fd, in_session_w)
        os.close(in_session_w)
        try:
            pidfd = os.pidfd_open(pid)  # the child cannot be reaped before we wait: race-free
            os.read(in_session_r, 1)    # end of file once the child has called setsid()
        except OSError:
            os.kill(pid, signal.SIGKILL)  # HexChat will never know it: it must not run
            raise
        finally:
            os.close(in_session_r)
        try:
            wire.send(self.control, {"op": "forked", "id": request, "pid": pid}, [pidfd])
        finally:
            os.close(pidfd)
        return pid

    def _become_worker(self, config: Dict[str, Any], pipe_fd: int, stderr_fd: int,
                       in_session_w: int) -> None:
        """In the child: drop everything of the zygote's, then boot exactly as
        a spawned worker does (``spawning.run_worker``). Never returns."""
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.control.close()
            wire.close_all((self.wake_r, self.wake_w))
            os.setsid()  # own session and process group, as a spawned worker's
            os.close(in_session_w)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(stderr_fd, 1)
            os.dup2(stderr_fd, 2)
            # Nothing else survives: no other worker's pipe, no stderr copy.
            os.closerange(3, pipe_fd)
            os.closerange(pipe_fd + 1, os.sysconf("SC_OPEN_MAX"))
            gc.enable()
            # Packages installed since the zygote started are found.
            importlib.invalidate_caches()
            from .. import spawning, worker

            spawning.run_worker(pipe_fd, worker.WorkerConfig(**config))
        except BaseException:
            try:
                os.write(2, traceback.format_exc().encode("utf-8", "replace"))
            finally:
                os._exit(70)
        os._exit(0)

    def _reap(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            request = self.children.pop(pid, None)
            if request is not None:
                wire.send(self.control, {"op": "exited", "id": request,
                                         "code": os.waitstatus_to_exitcode(status)})
