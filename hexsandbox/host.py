"""The client module inside HexChat: what the installed loader script starts.

``start()`` runs in HexChat's Python plugin (as the loader script
``hexsandbox_loader.py`` in ``addons/``). It builds a :class:`Sandbox` over the
real HexChat backend, autoloads ``<configdir>/sandbox/*.py``, adds the
``/sandbox`` command, takes over ``/load``, ``/unload`` and ``/reload`` (and
the Plugins and Scripts window's Unload button, which sends ``/unload``) for
sandboxed files, and shuts every worker down when HexChat unloads the loader
or quits.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List, Optional

from .client import RestartPolicy, Sandbox, SandboxError
from .commands import HELP, SandboxCommands
from .config import load_settings, sandbox_dir

EAT_NONE, EAT_ALL = 0, 3
PRI_HIGH = 64


class Host:
    """Keeps the sandbox, backend and hooks alive for the loader's lifetime."""

    def __init__(self, hexchat: Any, plugin_globals: dict, python: Optional[str]) -> None:
        from .hexchat_backend import HexChatBackend

        self.hexchat = hexchat
        self.config_dir = hexchat.get_info("configdir")
        self.settings = load_settings(self.config_dir)
        self._problems_told = 0
        self._tell_settings_problems()
        self.backend = HexChatBackend(hexchat, plugin_globals, self.settings.wakeup)
        self.python = python or self.settings.python
        self.sandbox = Sandbox(
            self.backend, python=self.python, deadline_ms=self.settings.deadline_ms,
            memory_limit_mb=self.settings.memory_limit_mb,
            restart=RestartPolicy() if self.settings.restart else None,
            spin_us=self.settings.spin_us)
        self.commands = SandboxCommands(self.sandbox, self.config_dir, self.backend.wakeup,
                                        self.python or "")
        from .remote.service import open_in_hexchat  # [remote] enabled = yes: docs/remote.md

        self.remote = open_in_hexchat(self.sandbox, self.config_dir, self.settings.parser)
        self.commands.remote = self.remote
        b = self.backend
        for name in ("SANDBOX", "SB"):
            b.hook_command(name, 0, HELP, self._on_sandbox)
        b.hook_command("LOAD", PRI_HIGH, None, self._on_load)
        b.hook_command("UNLOAD", PRI_HIGH, None, self._on_unload)
        b.hook_command("RELOAD", PRI_HIGH, None, self._on_reload)
        hexchat.hook_unload(self._on_host_unload)

    def autoload(self) -> None:
        folder = sandbox_dir(self.config_dir)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for filename in sorted(os.listdir(folder)):
            if filename.endswith(".py") and self.settings.for_script(filename).autoload:
                self._load(os.path.join(folder, filename))

    def _tell_settings_problems(self) -> None:
        """Each bad value of hexsandbox.ini, once, in the current tab."""
        problems = self.settings.problems
        for problem in problems[self._problems_told:]:
            self.hexchat.prnt(f"hexsandbox: {problem}")
        self._problems_told = len(problems)

    def _load(self, path: str) -> None:
        deadline_ms = self.settings.for_script(path).deadline_ms
        self._tell_settings_problems()
        try:
            self.sandbox.load(path, deadline_ms=deadline_ms)
        except SandboxError as exc:
            self.backend.prnt(f"hexsandbox: {exc}")

    # -------------------------------------------------------------- hooks
    def _on_sandbox(self, word: List[str], word_eol: List[str], _time: int) -> int:
        self.commands.run(word[1:])
        return EAT_ALL

    def _is_sandboxed_file(self, arg: str) -> bool:
        folder = sandbox_dir(self.config_dir)
        path = os.path.abspath(os.path.expanduser(arg))
        return arg.endswith(".py") and (os.path.dirname(path) == folder
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
        return self._on_sandboxed_script(word_eol, self.sandbox.reload)

    def _on_sandboxed_script(self, word_eol: List[str], action: Callable[[Any], Any]) -> int:
        """/UNLOAD and /RELOAD of a sandboxed script are ours; anything else
        goes on to the Python plugin (or HexChat)."""
        arg = _argument(word_eol)
        script = self.sandbox.find(arg) if arg else None
        if script is None:
            return EAT_NONE
        action(script)
        return EAT_ALL

    def _on_host_unload(self, _userdata: Any) -> None:
        """HexChat quits, or the loader is unloaded: stop every worker."""
        if self.remote is not None:
            self.remote.close()  # no new applications; connected ones are unloaded below
        self.sandbox.shutdown()
        self.backend.close()


def _argument(word_eol: List[str]) -> str:
    """The command's argument, without the quotes the plugin window adds."""
    arg = word_eol[1] if len(word_eol) > 1 else ""
    return arg.strip().strip('"')


_HOST: Optional[Host] = None


def start(plugin_globals: dict, python: Optional[str] = None) -> Host:
    """Entry point called by the loader script inside HexChat."""
    global _HOST
    import hexchat  # the real module: we are inside HexChat's Python plugin

    _HOST = Host(hexchat, plugin_globals, python)
    _HOST.autoload()
    return _HOST
