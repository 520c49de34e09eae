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

from . import __version__, spawning, stacks
from .client import Sandbox, SandboxError, Script, State
from .config import sandbox_dir

HELP = """\
Usage: /SANDBOX <command> [args]   (alias /SB)
  LOAD <file>        run a script in its own process (relative: from <configdir>/sandbox)
  UNLOAD <name>      run its unload hooks, stop its process
  RELOAD <name>      unload, then load it again
  RESTART <name>     start a crashed or stopped script again
  LIST               scripts with version, state, pid, memory, hooks, late and crash counts
  STATUS [-v]        what runs and how HexChat is protected (-v: how it works inside)
  STACK <name> [-v]  where a script is right now: its threads and frames (-v: all frames)
  LOG <name>         a script's last reports and the last lines its worker wrote to stderr
  MIGRATE <file>     move an in-process script from addons/ to the sandbox, keeping its prefs
  DEPS <name> [ADD <package> ...]  what a script declares and has installed; add packages
  APPS               external applications: connected, waiting, allowed, denied
  ALLOW <name>       let a waiting external application use HexChat (it gets a token)
  DENY <name>        refuse it, or revoke it (disconnects it); see docs/remote.md
  HELP               this text"""


class SandboxCommands:
    """Parses and runs ``/sandbox`` sub-commands."""

    def __init__(self, sandbox: Sandbox, config_dir: str, wakeup: str = "",
                 python: str = "", deps: Optional[Callable[[str], None]] = None,
                 load: Optional[Callable[[str], Any]] = None,
                 reload: Optional[Callable[[Script], Any]] = None) -> None:
        self.sandbox = sandbox
        self.deps = deps  # /sandbox deps (environments.command), given by the host
        self.load = load  # the host's load path (through the script's environment)
        self.reload = reload
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
        path = self.resolve(arg)
        self._tell_started("starting", self.load(path) if self.load else self.sandbox.load(path))

    def cmd_unload(self, arg: str) -> None:
        script = self._script(arg)
        self.sandbox.unload(script)
        self._say(f"hexsandbox: unloading {script.label}.")

    def cmd_reload(self, arg: str) -> None:
        script = self._script(arg)
        self._tell_started("reloading", self.reload(script) if self.reload else self.sandbox.reload(script))

    def _tell_started(self, verb: str, script: Optional[Script]) -> None:
        if script is not None:  # None: told why, or it starts once its environment is built
            self._say(f"hexsandbox: {verb} {os.path.basename(script.path)} (pid {script.pid}).")

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
        """What runs and how HexChat is protected, in plain words; ``-v``
        adds how it works (wake-up, spin, interpreters, folders)."""
        verbose = _verbose(arg)
        for line in status_lines(self.sandbox, sandbox_dir(self.config_dir)):
            self._say(line)
        if not verbose:
            self._say("hexsandbox: /sandbox status -v shows how it works inside.")
            return
        sb = self.sandbox
        if self.wakeup:
            self._say(f"hexsandbox: main-thread wake-up: {self.wakeup}.")
        spin = f"{sb.spin_us} us" if sb.spin_us else "off"
        self._say(f"hexsandbox: polling a pipe before sleeping on it (spin_us): {spin}.")
        default = self.python or spawning.default_python()
        self._say(f"hexsandbox: workers run {default}.")
        self._say("hexsandbox: " + spawning.describe_start(sb.start, default))
        for script in sb.scripts:
            interpreter = script.python or spawning.default_python()
            extra = [] if interpreter == default else [f"runs {interpreter}"]
            if script.deadline_ms != sb.deadline_ms:
                extra.append(f"deadline {script.deadline_ms} ms")
            if extra:
                self._say(f"hexsandbox: {script.label} {', '.join(extra)}.")

    def cmd_stack(self, arg: str) -> None:
        """The script's own threads and frames; ``-v``: the whole dump."""
        verbose = _verbose(arg)
        script = self._script(_without_flags(arg))
        text = self.sandbox.stack(script)
        hidden = 0
        if not verbose:
            text, hidden = stacks.script_view(text, script.path)
        self._say(f"hexsandbox: stack of {script.label} (pid {script.pid}):")
        for line in text.splitlines():
            self._say(line)
        if hidden:
            self._say(f"hexsandbox: {hidden} frames of hexsandbox's own machinery hidden; "
                      f"/sandbox stack {script.label} -v shows them.")

    def cmd_deps(self, arg: str) -> None:
        if self.deps is None:
            raise SandboxError("dependencies are managed inside HexChat only")
        self.deps(arg)

    def cmd_log(self, arg: str) -> None:
        for line in self.sandbox.log(self._script(arg)):
            self._say(line)

    def cmd_migrate(self, arg: str) -> None:
        if not arg:
            raise SandboxError("migrate what? Usage: /sandbox migrate <file.py>")
        source = arg if os.path.isabs(arg) else os.path.join(self.config_dir, "addons", arg)
        if not source.endswith((".py", ".pl")) or not os.path.isfile(source):
            raise SandboxError(f"no in-process script {source}")
        target = os.path.join(sandbox_dir(self.config_dir), os.path.basename(source))
        if os.path.exists(target):
            raise SandboxError(f"{target} already exists")
        # The Python plugin's own unload runs the script's unload hooks, so
        # whatever it saves on unload is in the shared pref store before the
        # sandboxed copy starts.
        # (A Perl script: the Perl plugin's /unload runs its shutdown callback.)
        unload = "unload" if source.endswith(".pl") else "py unload"
        self.sandbox.backend.command(f"{unload} {source}")
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


def _verbose(arg: str) -> bool:
    return any(word in ("-v", "--verbose") for word in arg.split())


def _without_flags(arg: str) -> str:
    return " ".join(word for word in arg.split() if word not in ("-v", "--verbose"))


def _duration(seconds: float) -> str:
    """'45 s', '1 minute', '5 minutes'."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    return f"{seconds:g} s"


def status_lines(sandbox: Sandbox, folder: str) -> List[str]:
    """``/sandbox status`` in the user's words: what is running, and what
    hexsandbox does when a script hangs, eats memory or crashes."""
    scripts = sandbox.scripts
    running = [s.label for s in scripts if s.state is State.RUNNING and not s.dead]
    others = [f"{s.label} ({s.state.value})" for s in scripts
              if not (s.state is State.RUNNING and not s.dead)]
    if not scripts:
        what = f"no scripts loaded (put them in {folder}, or /sandbox load FILE)."
    else:
        what = f"{len(running)} of {len(scripts)} scripts running, each in its own process"
        what += f": {', '.join(running)}" if running else ""
        what += f"; not running: {', '.join(others)}." if others else "."
    lines = [f"hexsandbox {__version__}: {what}"]
    lines.append(f"hexsandbox: a script that takes more than {sandbox.deadline_ms} ms to answer "
                 f"is not waited for: HexChat goes on, and you are told.")
    if sandbox.memory_limit_mb:
        lines.append(f"hexsandbox: each script may use up to {sandbox.memory_limit_mb} MB of memory; "
                     f"past that its allocations fail, never HexChat's.")
    else:
        lines.append("hexsandbox: scripts' memory is not limited (memory_limit_mb = 0).")
    policy = sandbox.restart
    if policy is None:
        lines.append("hexsandbox: a script that crashes stays stopped (restart = no); "
                     "/sandbox restart NAME starts it again.")
    else:
        lines.append(f"hexsandbox: a script that crashes is started again after "
                     f"{policy.first_delay_ms / 1000:g} s, waiting longer each time; after "
                     f"{policy.max_restarts + 1} crashes in {_duration(policy.window_s)} it stays stopped.")
    lines.append(f"hexsandbox: scripts folder {folder}; settings in its hexsandbox.ini.")
    return lines

