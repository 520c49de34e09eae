"""Running hexsandbox inside real HexChat in tests.

HexChat runs as an unprivileged user who may not be able to read this
checkout (CI clones can live under /root), so a session fixture builds a
small world-readable virtualenv with Debian's Python (the one HexChat embeds)
holding copies of hexsandbox and its dependencies, then ``hexsandbox
install`` itself writes the loader into each test HexChat's config dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from harness import HexChat, stop_unstopped

import cloudpickle
import dill
import msgpack
import multiprocess

import hexsandbox
from hexsandbox import install as hexsandbox_install

_COPIED = (hexsandbox, multiprocess, dill, cloudpickle, msgpack)
_EXTRA_TOP_LEVEL = ("_multiprocess",)


@dataclass
class SandboxEnv:
    python: str         # worker interpreter (venv over /usr/bin/python3)
    site: str           # where HexChat imports hexsandbox from
    base: str


def build_sandbox_env() -> SandboxEnv:
    base = tempfile.mkdtemp(prefix="hexsandbox-e2e-env-", dir="/tmp")
    venv = os.path.join(base, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", venv], check=True,
                   stdin=subprocess.DEVNULL, timeout=120)
    site = os.path.join(venv, "lib", "python3.11", "site-packages")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    src_site = os.path.dirname(os.path.dirname(multiprocess.__file__))
    for module in _COPIED:
        src = os.path.dirname(os.path.abspath(module.__file__))
        shutil.copytree(src, os.path.join(site, os.path.basename(src)), ignore=ignore)
    for name in _EXTRA_TOP_LEVEL:
        shutil.copytree(os.path.join(src_site, name), os.path.join(site, name), ignore=ignore)
    subprocess.run(["chmod", "-R", "a+rX", base], check=True)
    return SandboxEnv(python=os.path.join(venv, "bin", "python3"), site=site, base=base)


class SandboxedHexChat(HexChat):
    """A HexChat with hexsandbox installed and scripts in ``sandbox/``."""

    def __init__(self, *args: Any, env: SandboxEnv, sandbox_scripts: Optional[Mapping[str, str]] = None,
                 sandbox_ini: str = "", process_env: Optional[Mapping[str, str]] = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, env=process_env, **kwargs)
        self.env = env
        self.sandbox_scripts = dict(sandbox_scripts or {})
        self.sandbox_ini = sandbox_ini
        self._sandbox_written = False

    @property
    def sandbox_dir(self) -> str:
        return os.path.join(self.config_dir, "sandbox")

    def add_scripts(self, scripts: Union[Mapping[str, str], Sequence[str]],
                    _before_start: bool = False) -> List[str]:
        names = super().add_scripts(scripts, _before_start)
        if _before_start and not self._sandbox_written:
            # Runs inside _prepare(), before ownership is handed to the e2e user.
            hexsandbox_install.install(self.config_dir, python=self.env.python, paths=[self.env.site])
            for name, source in self.sandbox_scripts.items():
                with open(os.path.join(self.sandbox_dir, name), "w", encoding="utf-8") as f:
                    f.write(source)
            if self.sandbox_ini:
                with open(os.path.join(self.sandbox_dir, "hexsandbox.ini"), "w") as f:
                    f.write(self.sandbox_ini)
            self._sandbox_written = True
        return names

    def wait_ready(self, timeout: float = 30.0) -> Dict[str, Any]:
        """HexChat is up, and so is the hexsandbox loader: it imports on a
        thread and starts a timer tick later (hexsandbox/startup.py), so a
        `/load` typed before that would go to HexChat's own Python plugin."""
        info = super().wait_ready(timeout)
        deadline = time.monotonic() + timeout
        # Looked up in sys.modules, never imported here: an import would make
        # HexChat's main thread wait for the loader's import thread.
        while not self.eval("import sys\n_h = sys.modules.get('hexsandbox.loader')\n"
                            "result = bool(_h and getattr(_h, 'current_host', None) and _h.current_host())"):
            if time.monotonic() > deadline:
                raise AssertionError(f"the hexsandbox loader did not start; output:\n{self.output()}")
        return info

    # ------------------------------------------------------------ helpers
    def scripts_state(self) -> List[Dict[str, Any]]:
        """The sandbox's view of its scripts, read inside HexChat."""
        return self.eval(
            "import hexsandbox.loader as _h\n"
            "result = [{'name': s.label, 'state': s.state.value, 'pid': s.pid, 'hooks': len(s.backend_hooks),"
            " 'late': s.late, 'dead': s.dead, 'exitcode': s.exitcode,"
            " 'missed': getattr(s, 'missed_events', None)} for s in (_h.current_host().sandbox.scripts if _h.current_host() else [])]")

    def reports(self) -> List[Dict[str, str]]:
        return self.eval(
            "import hexsandbox.loader as _h\n"
            "result = [{'script': r.script, 'kind': r.kind, 'text': r.text} for r in (_h.current_host().sandbox.reports if _h.current_host() else [])]")

    def wait_scripts(self, predicate, timeout: float = 30.0, what: str = "sandboxed scripts") -> List[Dict[str, Any]]:
        """Wait (bounded) until ``predicate(scripts_state())`` holds.

        The state lives inside HexChat and changes on HexChat's main thread;
        each check is a request over the control socket that HexChat answers
        from its main loop, so this is a round trip per check, not a sleep.
        """
        import time

        end = time.monotonic() + timeout
        state: List[Dict[str, Any]] = []
        while time.monotonic() < end:
            state = self.scripts_state()
            if predicate(state):
                return state
        raise AssertionError(f"timed out waiting for {what}; last state: {state}")

    def wait_running(self, *names: str, timeout: float = 30.0) -> List[Dict[str, Any]]:
        return self.wait_scripts(
            lambda st: all(any(s["name"] == n and s["state"] == "running" for s in st) for n in names),
            timeout, f"{names} to run")


# ---------------------------------------------------------------- fixtures
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sandbox_env(e2e_system):
    """A world-readable venv with hexsandbox for HexChat's user (one per xdist worker)."""
    env = build_sandbox_env()
    yield env
    shutil.rmtree(env.base, ignore_errors=True)


@pytest.fixture
def sandboxed_hexchat_factory(request, xvfb, sandbox_env):
    """Start HexChats with hexsandbox installed; stopped (and checked for
    leftover processes, workers included) at teardown.

    sandboxed_hexchat_factory(sandbox={name: source}, scripts={name: source}
                              (in-process addons), ini='...', server=None,
                              channel='#test', config=None,
                              process_env=None (more environment for HexChat)) -> SandboxedHexChat
    """
    instances: List[SandboxedHexChat] = []

    def start(sandbox: Optional[Mapping[str, str]] = None, scripts: Optional[Mapping[str, str]] = None,
              ini: str = "", server: Any = None, channel: Optional[str] = "#test",
              config: Optional[Mapping[str, Any]] = None, wait_joined: bool = True,
              process_env: Optional[Mapping[str, str]] = None) -> SandboxedHexChat:
        if server is None:
            server = request.getfixturevalue("scripted_server")
        hc = SandboxedHexChat(xvfb, server.host, server.port, channel=channel, scripts=scripts,
                              config=dict(config or {}), env=sandbox_env, sandbox_scripts=sandbox,
                              sandbox_ini=ini, wait_joined=wait_joined, process_env=process_env)
        instances.append(hc)
        hc.start()
        return hc

    yield start
    problems = stop_unstopped(instances)
    if problems:
        pytest.fail("\n".join(problems))
