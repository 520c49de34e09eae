"""The plugins every HexChat 2.16 has loaded before any script: the Timer
plugin (src/common/plugin-timer.c, ``/TIMER``) and the Python plugin's own
commands (plugins/python/python.py: ``/PY``, and ``/LOAD`` ``/UNLOAD``
``/RELOAD`` of ``.py`` files).

They are ordinary command hooks of the emulator's hook list, added first, so
scripts' hooks of the same name run before them (newest first) and
``/help TIMER`` finds their help text exactly as in HexChat.

Loading Python scripts needs a loader: the sandbox running the scripts
(``Emulator.attach_python_loader``), an object with ``load(path) -> bool``,
``unload(name) -> bool`` and ``loaded() -> [(name, version, filename,
description)]``. ``/py exec`` runs the code in this process, in one namespace
shared by every ``/py exec`` (as HexChat's interpreter), with its output
printed in the current tab; unlike HexChat it has no ``hexchat`` module.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Protocol, Tuple

from . import formatting

from .hooks import COMMAND, EAT_ALL, EAT_HEXCHAT, EAT_NONE, Hook

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

TIMER_HELP = ("Usage: TIMER [-refnum <num>] [-repeat <num>] <seconds> <command>\n"
              "       TIMER [-quiet] -delete <num>")
PY_HELP = ("Usage: /PY LOAD   <filename>\n"
           "           UNLOAD <filename|name>\n"
           "           RELOAD <filename|name>\n"
           "           LIST\n"
           "           EXEC <command>\n"
           "           CONSOLE\n"
           "           ABOUT")
PY_VERSION = "2.0"
NO_SUCH_PY = "Can't find a python plugin with that name"


class PythonLoader(Protocol):
    """What loads and unloads Python scripts for ``/py`` (the sandbox)."""

    def load(self, path: str) -> bool: ...
    def unload(self, name: str) -> bool: ...
    def loaded(self) -> List[Tuple[str, str, str, str]]: ...


@dataclass
class _Timer:
    ref: int
    timeout_ms: int
    repeat: int
    command: str
    context: int
    forever: bool
    hook: Any = None




def _strtod(s: str) -> float:
    """``g_ascii_strtod``: the longest leading number, else 0."""
    best = 0.0
    for end in range(len(s), 0, -1):
        try:
            return float(s[:end])
        except ValueError:
            continue
    return best


class TimerPlugin:
    """``/TIMER``: IrcII-style timers that run a command in the tab they were
    set in. As in plugin-timer.c, the seconds are truncated to whole seconds
    before becoming milliseconds (``(int) timeout * 1000``)."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self.timers: List[_Timer] = []
        emu.hooks.add(Hook(kind=COMMAND, name="TIMER", priority=0, callback=self._on_timer,
                           help=TIMER_HELP))

    def _print(self, text: str) -> None:
        self.emu.prnt(text)

    def _on_timer(self, word: List[str], word_eol: List[str], _stamp: int) -> int:
        w = list(word) + [""] * 8
        we = list(word_eol) + [""] * 8
        if not w[1]:
            self._show()
            return EAT_HEXCHAT
        offset, quiet, ref, repeat = 0, False, 0, 1
        if w[1].lower() == "-quiet":
            quiet, offset = True, 1
        if w[1 + offset].lower() == "-delete":
            self._delete(formatting.atoi(w[2 + offset]), quiet)
            return EAT_HEXCHAT
        if w[1 + offset].lower() == "-refnum":
            ref = formatting.atoi(w[2 + offset])
            offset += 2
        if w[1 + offset].lower() == "-repeat":
            repeat = formatting.atoi(w[2 + offset])
            offset += 2
        timeout = _strtod(w[1 + offset])
        command = we[2 + offset]
        if timeout < 0.1 or timeout * 1000 > 2 ** 31 - 1 or not command:
            self._print(TIMER_HELP)
        else:
            self._add(ref, int(timeout) * 1000, repeat, command)
        return EAT_HEXCHAT

    def _add(self, ref: int, timeout_ms: int, repeat: int, command: str) -> None:
        if ref == 0:
            ref = max([t.ref for t in self.timers] + [0]) + 1
        tim = _Timer(ref, timeout_ms, repeat, command, self.emu.get_context(), repeat == 0)
        tim.hook = self.emu.clock.add_timer(timeout_ms, lambda: self._fire(tim))
        self.timers.append(tim)

    def _fire(self, tim: _Timer) -> bool:
        emu = self.emu
        if emu.set_context(tim.context):
            emu.command(tim.command)
            if tim.forever:
                return True
            tim.repeat -= 1
            if tim.repeat > 0:
                return True
        self.timers.remove(tim)
        return False

    def _delete(self, ref: int, quiet: bool) -> None:
        for tim in self.timers:
            if tim.ref == ref:
                self.timers.remove(tim)
                self.emu.unhook(tim.hook)
                if not quiet:
                    self._print("Timer %d deleted.\n" % ref)
                return
        if not quiet:
            self._print("No such ref number found.\n")

    def _show(self) -> None:
        if not self.timers:
            self._print("No timers installed.\n")
            self._print(TIMER_HELP)
            return
        self._print("\026 Ref#  Seconds  Repeat  Command \026\n")
        for tim in self.timers:
            self._print("%5d %8.1f %7d  %s\n" % (tim.ref, tim.timeout_ms / 1000.0, tim.repeat,
                                                tim.command))


class _Stdout:
    """The Python plugin's stdout: text is printed a whole line at a time."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        if "\n" in self.buffer:
            done, _sep, self.buffer = self.buffer.rpartition("\n")
            self.emu.prnt(done)
        return len(text)

    def flush(self) -> None:
        pass


class PythonPlugin:
    """``/PY`` and the Python plugin's ``.py`` LOAD/UNLOAD/RELOAD hooks."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self.loader: Optional[PythonLoader] = None
        self.namespace: Dict[str, Any] = {}
        self.stdout = _Stdout(emu)  # one writer, its unfinished line kept, as HexChat's
        for name, cb, text in (("LOAD", self._py_file_hook(self.load), None),
                               ("UNLOAD", self._py_file_hook(self.unload), None),
                               ("RELOAD", self._py_file_hook(self.reload), None),
                               ("PY", self._on_py, PY_HELP)):
            emu.hooks.add(Hook(kind=COMMAND, name=name, priority=0, callback=cb, help=text))

    # -- the .py hooks: eat (3) a .py file, let anything else through
    def _py_file_hook(self, action: Callable[[str], Any]) -> Callable[[List[str], List[str], int], int]:
        def hook(word: List[str], word_eol: List[str], _stamp: int) -> int:
            if len(word) > 1 and word[1].endswith(".py"):
                action(word[1])
                return EAT_ALL
            return EAT_NONE
        return hook

    def _on_py(self, word: List[str], word_eol: List[str], _stamp: int) -> int:
        w = list(word) + ["", "", ""]
        we = list(word_eol) + ["", "", ""]
        sub = w[1].lower()
        if sub == "exec":
            self.exec(we[2])
        elif sub == "load":
            self.load(w[2])
        elif sub in ("unload", "reload"):
            if not (self.unload(w[2]) if sub == "unload" else self.reload(w[2])):
                self.emu.prnt(NO_SUCH_PY)
        elif sub == "console":
            self.emu.command("QUERY >>python<<")
        elif sub == "list":
            self.list()
        elif sub == "about":
            self.emu.prnt("HexChat Python interface version " + PY_VERSION)
        else:
            self.emu.command("HELP PY")
        return EAT_ALL

    # -- the operations
    def load(self, filename: str) -> bool:
        path = os.path.expanduser(filename)
        if not os.path.isabs(path):
            path = os.path.join(self.emu.config_dir, "addons", path)
        if self.loader is None:
            self.emu.prnt("hexsandbox emulator: no Python loader attached, cannot load %s" % path)
            return False
        if any(row[2] == os.path.basename(path) for row in self.loader.loaded()):
            return False
        return self.loader.load(path)

    def unload(self, name: str) -> bool:
        return bool(name) and self.loader is not None and self.loader.unload(name)

    def reload(self, name: str) -> bool:
        if not name or self.loader is None:
            return False
        for row in self.loader.loaded():
            if name in (row[0], row[2]):
                return self.loader.unload(name) and self.load(row[2])
        return False

    def list(self) -> None:
        """``list_plugins``: a table padded to its widest cells."""
        rows = self.loader.loaded() if self.loader is not None else []
        if not rows:
            self.emu.prnt("No python modules loaded")
            return
        table = [("Name", "Version", "Filename", "Description"),
                 ("----", "-------", "--------", "-----------")]
        table += [(n, v or "<none>", f, d or "<none>") for n, v, f, d in rows]
        widths = [max(len(r[i]) for r in table) for i in range(4)]
        for row in table:
            self.emu.prnt(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        self.emu.prnt("")

    def exec(self, source: str) -> None:
        """``exec_in_interp``: 'single' mode, so an expression's value is shown."""
        if not source:
            return
        out = self.stdout
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):  # type: ignore[type-var]
            try:
                code = compile(source + "\n", "<string>", "single", dont_inherit=True)
                exec(code, self.namespace)  # noqa: S102 - what /py exec is for
            except Exception:
                traceback.print_exc(file=out)  # type: ignore[arg-type]
