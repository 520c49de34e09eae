"""The ``/sandbox`` command (alias ``/sb``): what a HexChat user types.

Pure command logic over a :class:`~hexsandbox.client.Sandbox`; output goes
through the backend's ``prnt`` in the current tab. Every error is one clear
line. Works the same on the emulator, which is how it is tested quickly; the
end-to-end suite runs it inside HexChat.
"""

from __future__ import annotations

import os
import shutil
from typing import Any, Callable, List, Optional

from .client import Sandbox, SandboxError, Script, State
from .config import sandbox_dir

HELP = """\
Usage: /SANDBOX <command> [args]   (alias /SB)
  LOAD <file>        run a script in its own process (relative: from <configdir>/sandbox)
  UNLOAD <name>      run its unload hooks, stop its process
  RELOAD <name>      unload, then load it again
  RESTART <name>     start a crashed or stopped script again
  LIST               scripts with version, state, pid, memory, hooks, late and crash counts
  STATUS             how the sandbox runs (wake-up, Python, deadline)
  STACK <name>       where a script is right now (Python stack of every thread)
  MIGRATE <file>     move an in-process script from addons/ to the sandbox, keeping its prefs
  APPS               external applications: connected, waiting, allowed, denied
  ALLOW <name>       let a waiting external application use HexChat (it gets a token)
  DENY <name>        refuse it, or revoke it (disconnects it); see docs/remote.md
  HELP               this text"""


class SandboxCommands:
    """Parses and runs ``/sandbox`` sub-commands."""

    def __init__(self, sandbox: Sandbox, config_dir: str, wakeup: str = "",
                 python: str = "") -> None:
        self.sandbox = sandbox
        self.config_dir = config_dir
        self.wakeup = wakeup
        self.python = python
        self._say: Callable[[str], None] = sandbox.backend.prnt
        #: The local API (hexsandbox.remote.service.RemoteService), when
        #: hexsandbox.ini enables it; None otherwise.
        self.remote: Optional[Any] = None

    def run(self, words: List[str]) -> None:
        """``words`` = the command's words after SANDBOX."""
        sub = words[0].lower() if words else "help"
        arg = " ".join(words[1:]).strip()
        handler = getattr(self, f"cmd_{sub}", None)
        if handler is None:
            self._say(f"hexsandbox: unknown command '{sub}'. Type /sandbox help.")
            return
        try:
            handler(arg)
        except SandboxError as exc:
            self._say(f"hexsandbox: {exc}")

    # ---------------------------------------------------------------- helpers
    def resolve(self, filename: str) -> str:
        filename = os.path.expanduser(filename)
        if not os.path.isabs(filename):
            filename = os.path.join(sandbox_dir(self.config_dir), filename)
        return filename

    def _script(self, name: str) -> Script:
        if not name:
            raise SandboxError("which script? Give its name or file name.")
        script = self.sandbox.find(name)
        if script is None:
            raise SandboxError(f"no sandboxed script called '{name}'. /sandbox list shows them.")
        return script

    # ---------------------------------------------------------------- commands
    def cmd_help(self, arg: str) -> None:
        for line in HELP.splitlines():
            self._say(line)

    def cmd_load(self, arg: str) -> None:
        if not arg:
            raise SandboxError("load what? Usage: /sandbox load <file.py>")
        script = self.sandbox.load(self.resolve(arg))
        self._say(f"hexsandbox: starting {os.path.basename(script.path)} (pid {script.pid}).")

    def cmd_unload(self, arg: str) -> None:
        script = self._script(arg)
        self.sandbox.unload(script)
        self._say(f"hexsandbox: unloading {script.label}.")

    def cmd_reload(self, arg: str) -> None:
        script = self.sandbox.reload(self._script(arg))
        self._say(f"hexsandbox: reloading {os.path.basename(script.path)} (pid {script.pid}).")

    def cmd_restart(self, arg: str) -> None:
        script = self._script(arg)
        if script.state in (State.RUNNING, State.STARTING) and not script.dead:
            fresh = self.sandbox.reload(script)
        else:
            self.sandbox.scripts.remove(script)
            fresh = self.sandbox.load(script.path, deadline_ms=script.deadline_ms)
        self._say(f"hexsandbox: restarted {os.path.basename(fresh.path)} (pid {fresh.pid}).")

    def cmd_list(self, arg: str) -> None:
        scripts = self.sandbox.scripts
        if not scripts:
            self._say("hexsandbox: no sandboxed scripts loaded.")
            return
        rows = [("Name", "Version", "State", "PID", "RSS", "Hooks", "Late", "Crashes")]
        for s in scripts:
            state = s.state.value + (" (late)" if s.late else "")
            rows.append((s.label, s.version or "-", state, str(s.pid or "-"), _rss(s.pid),
                         str(len(s.backend_hooks)), str(s.late_count), str(len(s.crash_times))))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self._say("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())

    def cmd_status(self, arg: str) -> None:
        sb = self.sandbox
        running = sum(1 for s in sb.scripts if s.state is State.RUNNING)
        self._say(f"hexsandbox: {running} running of {len(sb.scripts)} scripts; "
                  f"hook deadline {sb.deadline_ms} ms; workers run {self.python or 'the default Python'}.")
        if self.wakeup:
            self._say(f"hexsandbox: main-thread wake-up: {self.wakeup}.")
        spin = f"{sb.spin_us} us" if sb.spin_us else "off"
        self._say(f"hexsandbox: polling a pipe before sleeping on it (spin_us): {spin}.")
        self._say(f"hexsandbox: scripts folder: {sandbox_dir(self.config_dir)}")

    def cmd_stack(self, arg: str) -> None:
        script = self._script(arg)
        text = self.sandbox.stack(script)
        self._say(f"hexsandbox: stack of {script.label} (pid {script.pid}):")
        for line in text.splitlines():
            self._say(line)

    def cmd_migrate(self, arg: str) -> None:
        if not arg:
            raise SandboxError("migrate what? Usage: /sandbox migrate <file.py>")
        source = arg if os.path.isabs(arg) else os.path.join(self.config_dir, "addons", arg)
        if not source.endswith(".py") or not os.path.isfile(source):
            raise SandboxError(f"no in-process script {source}")
        target = os.path.join(sandbox_dir(self.config_dir), os.path.basename(source))
        if os.path.exists(target):
            raise SandboxError(f"{target} already exists")
        # The Python plugin's own unload runs the script's unload hooks, so
        # whatever it saves on unload is in the shared pref store before the
        # sandboxed copy starts.
        self.sandbox.backend.command(f"py unload {source}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(source, target)
        script = self.sandbox.load(target)
        self._say(f"hexsandbox: moved {os.path.basename(source)} to the sandbox "
                  f"(pid {script.pid}); its pluginprefs are unchanged.")


    # ------------------------------------------- external applications (remote)
    def _remote(self) -> Any:
        if self.remote is None:
            raise SandboxError("the local API is off: put '[remote]' and 'enabled = yes' in "
                               "hexsandbox.ini and restart HexChat.")
        return self.remote

    def cmd_apps(self, arg: str) -> None:
        for line in self._remote().apps_lines():
            self._say(line)

    def cmd_allow(self, arg: str) -> None:
        self._say(self._remote().allow(arg))

    def cmd_deny(self, arg: str) -> None:
        self._say(self._remote().deny(arg))


def _rss(pid: Optional[int]) -> str:
    """Resident memory of a worker, from /proc (Linux)."""
    if not pid:
        return "-"
    try:
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
        return f"{pages * os.sysconf('SC_PAGE_SIZE') // (1024 * 1024)} MB"
    except (OSError, ValueError, IndexError):
        return "-"
