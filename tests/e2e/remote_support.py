"""Running external applications against a real HexChat in tests.

HexChat runs as the unprivileged e2e user; an application that should be
allowed must be that user too, so every client here runs through the
harness's ``as_user`` with the world-readable sandbox venv's Python (which
holds this checkout's hexsandbox). The test process itself (root, or the
sudo user) is "another uid".
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any, Dict, List, Sequence

from harness.procs import as_user

REMOTE_INI = "[remote]\nenabled = yes\n"


class Apps:
    """Clients of one HexChat's local API, run as the e2e user."""

    def __init__(self, hc: Any) -> None:
        self.hc = hc
        self.python = hc.env.python
        self.dir = os.path.join(hc.base_dir, "apps")
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self._count = 0

    @property
    def socket_path(self) -> str:
        return os.path.join(self.hc.base_dir, "runtime", "hexsandbox", "api.sock")

    @property
    def tokens_path(self) -> str:
        return os.path.join(self.hc.base_dir, "home", ".config", "hexsandbox", "tokens.json")

    @property
    def allowlist_path(self) -> str:
        return os.path.join(self.hc.config_dir, "hexsandbox-apps.json")

    def env(self) -> List[str]:
        home = os.path.join(self.hc.base_dir, "home")
        return ["env", "-i", f"HOME={home}", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                f"XDG_RUNTIME_DIR={os.path.join(self.hc.base_dir, 'runtime')}",
                f"XDG_CONFIG_HOME={os.path.join(home, '.config')}", "PYTHONDONTWRITEBYTECODE=1"]

    def cli_argv(self, *args: str) -> List[str]:
        return as_user(self.env() + [self.python, "-m", "hexsandbox.cli", *args])

    def script(self, source: str) -> str:
        self._count += 1
        path = os.path.join(self.dir, f"app{self._count}.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        os.chmod(path, 0o644)
        return path

    def run(self, argv: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout)

    def start(self, argv: Sequence[str]) -> subprocess.Popen:
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
        return self.run(self.cli_argv(*args), timeout)

    def python_argv(self, source: str, *args: str) -> List[str]:
        return as_user(self.env() + [self.python, self.script(source), *args])

    def tokens(self) -> Dict[str, Any]:
        with open(self.tokens_path) as f:
            return json.load(f)[self.socket_path]

    def allow(self, name: str, timeout: float = 20.0, since: int = 0) -> None:
        """Wait until HexChat asks about ``name`` (in a report from index
        ``since`` on), then allow it as the user would."""
        wait_report(self.hc, f"application {name} (pid", timeout, since)
        self.hc.command(f"sandbox allow {name}")


def reports(hc: Any) -> List[str]:
    return [r["text"] for r in hc.reports()]


def wait_report(hc: Any, contains: str, timeout: float = 20.0, since: int = 0) -> str:
    """The first report (a line HexChat showed) containing ``contains``.

    Reports live inside HexChat; each check is a control round trip
    answered from HexChat's main loop (as ``wait_scripts`` does)."""
    end = time.monotonic() + timeout
    seen: List[str] = []
    while time.monotonic() < end:
        seen = reports(hc)[since:]
        for text in seen:
            if contains in text:
                return text
    raise AssertionError(f"HexChat never said {contains!r}; it said: {seen}")



def external_scripts(hc: Any) -> List[Dict[str, Any]]:
    return hc.eval(
        "import hexsandbox.loader as _h\n"
        "result = [{'name': s.label, 'path': s.path, 'state': s.state.value, 'pid': s.pid,"
        " 'hooks': len(s.backend_hooks), 'late': s.late, 'dead': s.dead}"
        " for s in (_h.current_host().sandbox.scripts if _h.current_host() else []) if s.external]")


def wait_externals(hc: Any, predicate: Any, timeout: float = 20.0) -> List[Dict[str, Any]]:
    end = time.monotonic() + timeout
    state: List[Dict[str, Any]] = []
    while time.monotonic() < end:
        state = external_scripts(hc)
        if predicate(state):
            return state
    raise AssertionError(f"external applications never matched; last: {state}")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
