"""The README's "Use it in HexChat" install, run exactly as written.

The commands come from README.md itself (the ``sh`` blocks of that section),
so the README and this test cannot drift. ``sudo apt install ...`` lines are
the machine's part: their packages must be ones scripts/setup-system.sh
installs, and installed. Every other line runs as the unprivileged user
``hexsandbox-e2e`` with a fresh HOME and a desktop user's environment (no
``~/.local/bin`` on PATH, no virtualenv), in a copy of this checkout that the
user owns (the checkout itself may sit under /root). pip reads the machine's
own config (/etc/pip.conf, /etc/xdg/pip/pip.conf) as any user's pip does, and
reaches PyPI for the dependencies.

Then real HexChat starts as that user with that HOME, the config dir being
the one ``hexsandbox install`` wrote to, and a script in the sandbox folder
must run in its own process, a child of HexChat, with the pipx venv's Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from typing import Any, List, Tuple

from harness import HexChat
from harness.procs import as_user, chown_tree, e2e_user, proc_info

from hexsandbox import __version__

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECTION = "## Use it in HexChat"

PROOF = '''
__module_name__ = "proof"
import hexchat, os, sys
def proof(word, word_eol, userdata):
    hexchat.prnt("proof runs in pid %d with %s" % (os.getpid(), sys.executable))
    return hexchat.EAT_ALL
hexchat.hook_command("PROOF", proof)
'''

#: The machine's network and pip setup, which any user there has too.
_PASSED_ENV = re.compile(r"^(PIP_.*|https?_proxy|HTTPS?_PROXY|no_proxy|NO_PROXY|SSL_CERT_FILE)$")


def readme_install_commands() -> Tuple[List[str], List[str]]:
    """(packages of the ``sudo apt install`` lines, the other command lines)."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("\n" + SECTION + "\n", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)
             for line in block.splitlines() if line.strip()]
    packages = [p for line in lines if line.startswith("sudo apt install ")
                for p in line.split()[3:]]
    commands = [line for line in lines if not line.startswith("sudo ")]
    return packages, commands


def _setup_packages() -> List[str]:
    with open(os.path.join(REPO, "scripts", "setup-system.sh"), encoding="utf-8") as f:
        match = re.search(r"^PACKAGES=\(([^)]*)\)", f.read(), re.M)
    assert match, "scripts/setup-system.sh lists its PACKAGES"
    return match.group(1).split()


def test_readme_packages_are_the_ones_setup_installs():
    packages, commands = readme_install_commands()
    assert packages and commands, "the install section has an apt line and user commands"
    assert set(packages) <= set(_setup_packages())
    for package in packages:
        status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=30).stdout
        assert status == "install ok installed", f"{package}: {status!r}"


class ReadmeInstalledHexChat(HexChat):
    """HexChat whose hexsandbox was installed by the README's commands, run
    as the e2e user in its HOME (``home/``) before HexChat starts."""

    def __init__(self, *args: Any, commands: List[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = commands
        self.install_output = ""
        self.install_seconds = 0.0

    @property
    def home(self) -> str:
        return os.path.join(self.base_dir, "home")

    def _prepare(self) -> None:
        super()._prepare()
        # The user's ~/.config/hexchat is the config dir HexChat runs with
        # (`hexchat -d`): what `hexsandbox install` finds by default.
        os.makedirs(os.path.join(self.home, ".config"))
        os.symlink(self.config_dir, os.path.join(self.home, ".config", "hexchat"))
        checkout = os.path.join(self.base_dir, "checkout")
        shutil.copytree(REPO, checkout, symlinks=True, ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "__pycache__", "*.pyc", "*.egg-info", ".pytest_cache"))
        user = e2e_user()
        chown_tree(self.base_dir, user.uid, os.getgid())
        env = {k: v for k, v in os.environ.items() if _PASSED_ENV.match(k)}
        env.update(HOME=self.home, USER=user.name, LOGNAME=user.name, LANG="C.UTF-8",
                   PATH="/usr/local/bin:/usr/bin:/bin")
        script = "set -ex\n" + "\n".join(self.commands) + "\n"
        argv = as_user(["env", "-i", *(f"{k}={v}" for k, v in env.items()), "bash", "-c", script])
        started = time.monotonic()
        done = subprocess.run(argv, cwd=checkout, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=300)
        self.install_seconds = time.monotonic() - started
        self.install_output = done.stdout.decode(errors="replace")
        assert done.returncode == 0, f"README install failed:\n{self.install_output}"
        sandbox = os.path.join(self.config_dir, "sandbox")
        assert os.path.isdir(sandbox), "hexsandbox install made the sandbox folder"
        with open(os.path.join(sandbox, "proof.py"), "w", encoding="utf-8") as f:
            f.write(PROOF)
        os.chmod(os.path.join(sandbox, "proof.py"), 0o644)


def _lines(hc: HexChat) -> List[str]:
    return [line.lstrip("\t") for lines in hc.transcript().values() for line in lines]


def _wait_line(hc: HexChat, prefix: str, timeout: float = 30.0) -> List[str]:
    """Each check is a request HexChat answers from its main loop (a round
    trip, not a sleep); bounded."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [line for line in _lines(hc) if line.startswith(prefix)]
        if found:
            return found
    raise AssertionError(f"timed out waiting for {prefix!r}; lines: {_lines(hc)[-20:]}")


def test_readme_install_then_a_script_runs_sandboxed_in_real_hexchat(xvfb, scripted_server):
    _packages, commands = readme_install_commands()
    hc = ReadmeInstalledHexChat(xvfb, scripted_server.host, scripted_server.port, commands=commands)
    try:
        hc.start()
        loader = os.path.join(hc.addons_dir, "hexsandbox_loader.py")
        assert os.path.isfile(loader), hc.install_output
        venv_python = os.path.join(hc.home, ".local", "pipx", "venvs", "hexsandbox", "bin", "python")
        with open(loader, encoding="utf-8") as f:
            assert f"python={venv_python!r}" in f.read(), "workers run the pipx venv's Python"
        told = _wait_line(hc, f"hexsandbox {__version__}:")
        assert told == [f"hexsandbox {__version__}: 1 script sandboxed (proof); /sandbox help"]
        hc.command("PROOF", "#test")
        (line,) = [l for l in hc.transcript("#test") if "proof runs in pid" in l]
        pid = int(line.split("pid ")[1].split()[0])
        assert line.lstrip("\t") == f"proof runs in pid {pid} with {venv_python}"
        info = proc_info(pid)
        assert pid != hc.pid and info is not None, "its own process"
        zygote = proc_info(info.ppid)
        with open(f"/proc/{info.ppid}/cmdline", "rb") as f:
            assert b"hexsandbox.zygote.server" in f.read(), "forked by the zygote (start = zygote)"
        assert zygote is not None and zygote.ppid == hc.pid, "the zygote is HexChat's child"
        with open(f"/proc/{pid}/status") as f:
            uid = [l for l in f if l.startswith("Uid:")][0].split()[1]
        assert int(uid) == e2e_user().uid
    finally:
        result = hc.stop()
    assert not result.leftovers, result.leftovers
    # Not asserted (rule 4), but kept in the log for whoever reads a slow run.
    print(f"README install took {hc.install_seconds:.1f} s")
