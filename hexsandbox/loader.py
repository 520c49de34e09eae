"""What the installed loader script starts inside HexChat.

``start()`` runs in HexChat's Python plugin (as the loader script
``hexsandbox_loader.py`` in ``addons/``). It builds a :class:`Sandbox` over the
real HexChat backend, autoloads ``<configdir>/sandbox/*.py`` (and ``*.pl``, docs/perl.md), adds the
``/sandbox`` command, takes over ``/load``, ``/unload`` and ``/reload`` (and
the Plugins and Scripts window's Unload button, which sends ``/unload``) for
sandboxed files, and shuts every worker down when HexChat unloads the loader
or quits.

:class:`Host` takes any backend, so the host tests drive it on the emulator.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, Optional

from . import __version__, spawning
from .api_table import EAT_ALL, EAT_NONE, PRI_HIGH
from .backend import Backend
from .client import RestartPolicy, Sandbox, SandboxError, Script, State
from .commands import HELP, SandboxCommands
from .config import Settings, load_settings, sandbox_dir
from .environments.command import DepsCommand
from .environments.service import Environments

#: What the sandbox runs: Python scripts, and Perl scripts (docs/perl.md).
SCRIPT_SUFFIXES = (".py", ".pl")

#: How often the start line checks whether autoload has settled, and how long
#: it waits for a script that neither loads nor fails (it is then named as
#: still loading). Loads are asynchronous: a worker reports "loaded" or
#: "load failed" through its pipe, and the client's public view of that is
#: ``Script.state``, so this is a short poll during start-up only.
SETTLE_POLL_MS = 50
SETTLE_LIMIT_MS = 10000


class Host:
    """Keeps the sandbox, backend and hooks alive for the loader's lifetime."""

    def __init__(self, backend: Backend, config_dir: str, settings: Settings,
                 python: Optional[str] = None, wakeup: str = "") -> None:
        self.backend = backend
        self.config_dir = config_dir
        self.settings = settings
        self._problems_told = 0
        self._tell_settings_problems()
        # hexsandbox.ini's python wins over the one `hexsandbox install`
        # wrote into the loader: the user's explicit choice is the later one.
        self.python = settings.python or python
        self.sandbox = Sandbox(
            backend, python=self.python, deadline_ms=settings.deadline_ms,
            memory_limit_mb=settings.memory_limit_mb,
            restart=RestartPolicy() if settings.restart else None,
            spin_us=settings.spin_us, start=settings.start)
        self.environments = Environments(backend, config_dir, self._base_python, self._say_in_front)
        deps = DepsCommand(self.environments, self.sandbox, config_dir, self._load, self._reload,
                           self._python_for, backend.prnt)
        self.commands = SandboxCommands(self.sandbox, config_dir, wakeup, self.python or "",
                                        deps=deps.run, load=self._load, reload=self._reload)
        from .remote.service import open_in_hexchat  # [remote] enabled = yes: docs/remote.md

        self.remote = open_in_hexchat(self.sandbox, config_dir, settings.parser)
        self.commands.remote = self.remote
        self.autoloaded: List[Script] = []
        #: The start line, once told (None before autoload has settled).
        self.told_start: Optional[str] = None
        b = backend
        for name in ("SANDBOX", "SB"):
            b.hook_command(name, 0, HELP, self._on_sandbox)
        b.hook_command("LOAD", PRI_HIGH, None, self._on_load)
        b.hook_command("UNLOAD", PRI_HIGH, None, self._on_unload)
        b.hook_command("RELOAD", PRI_HIGH, None, self._on_reload)

    def autoload(self) -> None:
        """Start every ``*.py`` of the sandbox folder; one line tells the
        user what came of it once every one has loaded or failed."""
        folder = sandbox_dir(self.config_dir)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for filename in sorted(os.listdir(folder)):
            if filename.endswith(SCRIPT_SUFFIXES) and self.settings.for_script(filename).autoload:
                self._load(os.path.join(folder, filename), autoload=True)
        waited = [0]

        def check() -> bool:
            waited[0] += SETTLE_POLL_MS
            if self._settled() or waited[0] >= SETTLE_LIMIT_MS:
                self._tell_start()
                return False
            return True

        if self._settled():
            self._tell_start()
        else:
            self.backend.hook_timer(SETTLE_POLL_MS, check)

    def _settled(self) -> bool:
        """Every autoloaded script has loaded or failed, and none still waits
        for its environment (environments.service)."""
        return (not self.environments.pending()
                and all(s.state is not State.STARTING or s.dead for s in self.autoloaded))

    def _tell_start(self) -> None:
        self.told_start = start_line(self.autoloaded, sandbox_dir(self.config_dir))
        self._say_in_front(self.told_start)

    def _say_in_front(self, text: str) -> None:
        """In the tab the user is looking at, as crash reports are."""
        b = self.backend
        previous = b.get_context()
        b.set_context(b.front_context())
        b.prnt(text)
        b.set_context(previous)

    def _tell_settings_problems(self) -> None:
        """Each bad value of hexsandbox.ini, once, in the tab the user looks at."""
        problems = self.settings.problems
        for problem in problems[self._problems_told:]:
            self._say_in_front(f"hexsandbox: {problem}")
        self._problems_told = len(problems)

    def _base_python(self) -> str:
        return self.python or spawning.default_python()

    def _python_for(self, path: str) -> str:
        """The interpreter a script runs under: ``[script:NAME] python``, else the sandbox's."""
        return self.settings.for_script(path).python or self._base_python()

    def _load(self, path: str, autoload: bool = False) -> Optional[Script]:
        """Load through the script's environment (environments.service): at
        once when nothing needs installing (returns the Script), else after a
        background probe or build (returns None; the script joins the start
        line if it starts before that line is told)."""
        wanted = self.settings.for_script(path)
        self._tell_settings_problems()
        # Only an interpreter chosen for this script alone is probed before
        # use; the sandbox's own was checked by `hexsandbox install`.
        own = wanted.python if wanted.python and wanted.python != self.python else None

        def start(python: Optional[str]) -> Optional[Script]:
            # Autoload never blocks HexChat's start (sandbox.starting).
            script = self._start(path, wanted.deadline_ms, python, wanted.hooks == "async",
                                 background=autoload)
            if autoload and script is not None and self.told_start is None:
                self.autoloaded.append(script)
            return script

        return self.environments.load(path, own, start)

    def _reload(self, script: Script) -> Optional[Script]:
        """Unload, then load through the environment again: a changed block
        or ini list counts (Sandbox.reload would keep the old interpreter)."""
        self.sandbox.unload(script)
        if script in self.sandbox.scripts:
            self.sandbox.scripts.remove(script)
        return self._load(script.path)

    def _start(self, path: str, deadline_ms: int, python: Optional[str],
               hooks_async: bool = False, background: bool = False) -> Optional[Script]:
        try:
            return self.sandbox.load(path, deadline_ms=deadline_ms, python=python or self.python,
                                     hooks_async=hooks_async, background=background)
        except SandboxError as exc:
            self.backend.prnt(f"hexsandbox: {exc}")
            return None

    # -------------------------------------------------------------- hooks
    def _on_sandbox(self, word: List[str], word_eol: List[str], _time: int) -> int:
        self.commands.run(word[1:])
        return EAT_ALL

    def _is_sandboxed_file(self, arg: str) -> bool:
        folder = sandbox_dir(self.config_dir)
        path = os.path.abspath(os.path.expanduser(arg))
        return arg.endswith(SCRIPT_SUFFIXES) and (os.path.dirname(path) == folder
                                        or self.sandbox.find(path) is not None)

    def _on_load(self, word: List[str], word_eol: List[str], _time: int) -> int:
        arg = _argument(word_eol)
        if not arg or not self._is_sandboxed_file(arg):
            return EAT_NONE
        self._load(os.path.abspath(os.path.expanduser(arg)))
        return EAT_ALL

    def _on_unload(self, word: List[str], word_eol: List[str], _time: int) -> int:
        return self._on_sandboxed_script(word_eol, self.sandbox.unload)

    def _on_reload(self, word: List[str], word_eol: List[str], _time: int) -> int:
        return self._on_sandboxed_script(word_eol, self._reload)

    def _on_sandboxed_script(self, word_eol: List[str], action: Callable[[Any], Any]) -> int:
        """/UNLOAD and /RELOAD of a sandboxed script are ours; anything else
        goes on to the Python plugin (or HexChat)."""
        arg = _argument(word_eol)
        script = self.sandbox.find(arg) if arg else None
        if script is None:
            return EAT_NONE
        action(script)
        return EAT_ALL

    def close(self) -> None:
        """HexChat quits, or the loader is unloaded: stop installers, the
        local API and every worker."""
        if self.remote is not None:
            self.remote.close()  # no new applications; connected ones are unloaded below
        self.environments.close()
        self.sandbox.shutdown()


def start_line(scripts: List[Script], folder: str) -> str:
    """``hexsandbox 0.2: 3 scripts sandboxed (greeter, logger, weather); /sandbox help``,
    naming the scripts that failed to load (or are still loading) too."""
    if not scripts:
        return f"hexsandbox {__version__}: no scripts sandboxed yet (put them in {folder}); /sandbox help"
    running = [s for s in scripts if s.state is State.RUNNING and not s.dead]
    starting = [s for s in scripts if s.state is State.STARTING and not s.dead]
    failed = [s for s in scripts if s.dead or s.state not in (State.RUNNING, State.STARTING)]
    parts = [f"{_count(len(running), 'script')} sandboxed" + _names(running)]
    if failed:
        parts.append(f"{len(failed)} failed to load{_names(failed)}, see /sandbox list")
    if starting:
        parts.append(f"{len(starting)} still loading{_names(starting)}")
    return f"hexsandbox {__version__}: {'; '.join(parts)}; /sandbox help"


def _names(scripts: List[Script]) -> str:
    return f" ({', '.join(s.label for s in scripts)})" if scripts else ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _argument(word_eol: List[str]) -> str:
    """The command's argument, without the quotes the plugin window adds."""
    arg = word_eol[1] if len(word_eol) > 1 else ""
    return arg.strip().strip('"')


_HOST: Optional[Host] = None


def current_host() -> Optional[Host]:
    """The Host the loader started in this HexChat (None before start): for
    tools and tests that look inside a running HexChat."""
    return _HOST


def start(plugin_globals: dict, python: Optional[str] = None) -> Host:
    """Entry point called by the loader script inside HexChat. ``python`` is
    the interpreter ``hexsandbox install`` found (hexsandbox.ini overrides it)."""
    global _HOST
    import hexchat  # the real module: we are inside HexChat's Python plugin

    from .hexchat_backend import HexChatBackend

    config_dir = hexchat.get_info("configdir")
    settings = load_settings(config_dir)
    backend = HexChatBackend(hexchat, settings.wakeup)
    host = Host(backend, config_dir, settings, python=python, wakeup=backend.wakeup)

    def on_unload(_userdata: Any) -> None:
        host.close()
        backend.close()

    hexchat.hook_unload(on_unload)
    _HOST = host
    host.autoload()
    return host
