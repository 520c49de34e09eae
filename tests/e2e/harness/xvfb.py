"""A private Xvfb display.

The display number is chosen by Xvfb itself (``-displayfd``): it binds the
first free one and writes its number to a pipe we pass it, so concurrent
pytest-xdist workers never race for a number. We wait on that pipe (with a
deadline), not on a sleep.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from typing import List, Optional, Tuple

from .procs import HarnessError, terminate_all, wait_pid_exit


class Xvfb:
    def __init__(self, screen: str = "1280x1024x24", start_timeout: float = 15.0):
        self.screen = screen
        self.start_timeout = start_timeout
        self.proc: Optional[subprocess.Popen] = None
        self.display_number: Optional[int] = None
        self._log_path: Optional[str] = None

    @property
    def display(self) -> str:
        if self.display_number is None:
            raise HarnessError("Xvfb is not running")
        return f":{self.display_number}"

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def start(self, log_path: Optional[str] = None) -> "Xvfb":
        if shutil.which("Xvfb") is None:
            raise HarnessError("Xvfb is not installed: run scripts/setup-system.sh")
        rfd, wfd = os.pipe()
        self._log_path = log_path
        log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(
                [
                    "Xvfb",
                    "-displayfd", str(wfd),
                    "-nolisten", "tcp",
                    "-noreset",
                    "-screen", "0", self.screen,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(wfd,),
                start_new_session=True,
            )
        finally:
            os.close(wfd)
            if log is not subprocess.DEVNULL:
                log.close()
        try:
            buf = b""
            deadline = time.monotonic() + self.start_timeout
            while not buf.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HarnessError(f"Xvfb did not report a display within {self.start_timeout}s")
                r, _, _ = select.select([rfd], [], [], remaining)
                if not r:
                    continue
                chunk = os.read(rfd, 64)
                if not chunk:  # Xvfb exited before writing
                    raise HarnessError(f"Xvfb exited early: {self._log_tail()}")
                buf += chunk
            self.display_number = int(buf.strip())
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(rfd)
        return self

    def _log_tail(self) -> str:
        if not self._log_path:
            return "(no log)"
        try:
            with open(self._log_path, "rb") as f:
                return f.read()[-2000:].decode(errors="replace")
        except OSError:
            return "(log unreadable)"

    def env(self) -> dict:
        return {"DISPLAY": self.display}

    def windows(self, visible_only: bool = True) -> List[Tuple[int, str]]:
        """(window id, name) of the windows that have a non-empty name."""
        cmd = ["xdotool", "search"]
        if visible_only:
            cmd.append("--onlyvisible")
        cmd += ["--name", ""]
        env = dict(os.environ, DISPLAY=self.display)
        cp = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, timeout=10)
        out = []
        for line in cp.stdout.decode().split():
            wid = int(line)
            name = subprocess.run(
                ["xdotool", "getwindowname", str(wid)], env=env,
                stdin=subprocess.DEVNULL, capture_output=True, timeout=10,
            ).stdout.decode(errors="replace").strip()
            if name:
                out.append((wid, name))
        return out

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            if not wait_pid_exit(self.proc.pid, 5.0, popen=self.proc):
                self.proc.kill()
                wait_pid_exit(self.proc.pid, 5.0, popen=self.proc)
        terminate_all([self.proc.pid])  # no-op if gone

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
