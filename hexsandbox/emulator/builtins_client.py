"""Built-ins about the client itself: HELP, SET, GUI, IGNORE/UNIGNORE,
LOAD/UNLOAD/RELOAD, and the two fallbacks for the rest of HexChat's table:
front-end actions (recorded in ``Emulator.gui_actions``) and commands the
emulator does not model (one line, nothing sent)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, List

from . import settings
from .ignore import parse_ignore_args

if TYPE_CHECKING:  # pragma: no cover
    from .commands import Commands, Handler
    from .state import Session


def cmd_help(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    """``/help NAME``: plugin help, user command, ``Usage: ...``; the bare
    listing is HexChat's 'Commands Available' (names in columns of five)."""
    name = word[2]
    if name and name != "-l":
        c.show_help(sess, name, quiet=False)
        return True
    from .builtin_table import BUILTINS
    c.print(sess, "\nCommands Available:\n\n")
    _columns(c, sess, [b.name for b in BUILTINS.values()])
    c.print(sess, "\nUser defined commands:\n\n")
    _columns(c, sess, [u.name for u in c.user_commands])
    c.print(sess, "\nPlugin defined commands:\n\n")
    _columns(c, sess, [h.name for h in c.emu.hooks.command_hooks()])
    c.print(sess, "\nType /HELP <command> for more information, or /HELP -l\n\n")
    return True


def _columns(c: "Commands", sess: "Session", names: List[str]) -> None:
    """``show_help_line``: five upper-cased names a line, padded to 10."""
    buf = "  "
    for i, name in enumerate(names, 1):
        buf += name.upper()
        if i % 5 == 0:
            c.print(sess, buf + "\n")
            buf = "  "
        else:
            buf += " " * max(10 - len(name), 0)
    c.print(sess, buf + "\n")


def cmd_set(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    return settings.cmd_set(c, sess, word, word_eol)


_GUI_ACTIONS = ("APPLY", "ATTACH", "DETACH", "FLASH", "HIDE", "ICONIFY", "MSGBOX", "SHOW")


def cmd_gui(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    sub = word[2].upper()
    if sub == "FOCUS":
        emu.bring_to_front(sess)
        emu.run_print_hooks(sess, "Focus Tab", [], 0)
        return True
    if sub == "MENU" and word[3].upper() != "TOGGLE":
        return False
    if sub in _GUI_ACTIONS or sub in ("MENU", "COLOR"):
        emu.gui_actions.append((sess.id, "GUI", word_eol[2]))
        return True
    return False


def cmd_ignore(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    if not word[2]:
        emu.ignores.show(sess)
        return True
    parsed = parse_ignore_args(word)
    for bad in parsed.unknown:
        c.print(sess, "Unknown arg '%s' ignored." % bad)
    if parsed.type == 0:
        return False
    result = emu.ignores.add(parsed.mask, parsed.type)
    if not parsed.quiet:
        emu.emit(sess, "Ignore Add" if result == 1 else "Ignore Changed", parsed.mask)
    return True


def cmd_unignore(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    mask = word[2]
    if not mask:
        return False
    if "?" not in mask and "*" not in mask:
        mask += "!*@*"
    if c.emu.ignores.remove(mask) and word[3].upper() != "QUIET":
        c.emu.emit(sess, "Ignore Remove", mask)
    return True


def cmd_load(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    """Python scripts are the Python plugin's (its LOAD hook runs first and
    eats them); anything else would be a C plugin or ``-e`` file."""
    if not word[2]:
        return False
    c.print(sess, "hexsandbox emulator: only Python scripts can be loaded (%s)" % word[2])
    return True


def cmd_unload(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    c.print(sess, "No such plugin found.\n")
    return False


def cmd_reload(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    c.print(sess, "No such plugin found.\n")
    return False


def _front_end_ok(name: str, word: List[str], word_eol: List[str]) -> bool:
    """When HexChat's own handler of a front-end command refuses (FALSE)."""
    checks: Dict[str, Callable[[], bool]] = {
        "ADDBUTTON": lambda: bool(word[2] and word_eol[3]),
        "DELBUTTON": lambda: bool(word[2]),
        "CLEAR": lambda: not word[2] or word[2][0] in "-0123456789"
        or word[2].upper() == "HISTORY" or word[2].lower().startswith("all"),
        "GETBOOL": lambda: bool(word[4]), "GETINT": lambda: bool(word[4]),
        "GETSTR": lambda: bool(word[4]), "GETFILE": lambda: bool(word[3]),
        "LASTLOG": lambda: bool(word_eol[2]),
        "MENU": lambda: bool(word[2] and word[3]),
        "SPLAY": lambda: bool(word[2]), "URL": lambda: bool(word[2]),
        "TRAY": lambda: word[2] in ("-t", "-i", "-f"),
    }
    return checks.get(name, lambda: True)()


def front_end(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    """A GUI-only command: recorded as (tab, NAME, arguments), nothing printed."""
    name = word[1].upper()
    if not _front_end_ok(name, word, word_eol):
        return False
    c.emu.gui_actions.append((sess.id, name, word_eol[2]))
    if name == "LIST":
        c.send("LIST")
    return True


def not_modelled(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    c.print(sess, "hexsandbox emulator: /%s is not emulated" % word[1].upper())
    return True


HANDLERS: Dict[str, "Handler"] = {
    name[4:]: fn for name, fn in globals().items() if name.startswith("cmd_") and callable(fn)
}
