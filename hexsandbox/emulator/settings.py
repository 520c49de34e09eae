"""``/set`` as cfgfiles.c's ``cmd_set`` does it, and hexchat.conf as
``save_config`` writes it.

* flags, in this order only: ``-e`` (erase: a string may become empty),
  ``-off`` (clear bits), ``-or``/``-on`` (set bits), ``-quiet``;
* no name: every variable (``set_list``); a name with ``*`` or ``?`` and no
  value: every matching variable; a value may start with ``=``;
* a listing line is ``name\\x032.....\\x033:\\x0f value`` with dots up to 29
  columns, booleans as ON/OFF; a change prints ``name set to: new (was: old)``
  with the name as typed; unknown: ``No such variable.``;
* booleans take any atoi, or YES/ON/NO/OFF; ints atoi;
* every /set that found a variable saves hexchat.conf (``version = ...`` then
  ``name = value`` for each variable, booleans and ints as numbers).
"""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING, List

from . import formatting

from .prefs_table import PREFS

if TYPE_CHECKING:  # pragma: no cover
    from .commands import Commands
    from .core import Emulator
    from .state import Session




def show_value(emu: "Emulator", name: str) -> str:
    """``set_showval``'s line for one variable."""
    typ = PREFS[name][0]
    value = emu.prefs.get(name)
    shown = ("ON" if value else "OFF") if typ == "bool" else str(value)
    return "%s\x032%s\x033:\x0f %s\n" % (name, "." * max(29 - len(name), 0), shown)


def cmd_set(c: "Commands", sess: "Session", word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    idx = 2
    erase = off = on = quiet = False
    if word[idx].lower() == "-e":
        idx, erase = idx + 1, True
    if word[idx].lower() == "-off":
        idx, off = idx + 1, True
    if word[idx].lower() in ("-or", "-on"):
        idx, on = idx + 1, True
    if word[idx].lower() == "-quiet":
        idx, quiet = idx + 1, True
    var, val = word[idx], word_eol[idx + 1]
    if not var:
        for name in PREFS:
            c.print(sess, show_value(emu, name))
        return True
    wild = ("*" in var or "?" in var) and not val
    if val.startswith("="):
        val = val[1:]
    finds = 0
    for name, (typ, _default) in PREFS.items():
        found = fnmatch.fnmatchcase(name, var.lower()) if wild else name == var.lower()
        if not found:
            continue
        finds += 1
        if typ == "str":
            if erase or val:
                old = emu.prefs.get(name)
                emu.prefs.set(name, val)
                if not quiet:
                    c.print(sess, "%s set to: %s (was: %s)\n" % (var, emu.prefs.get(name), old))
            else:
                c.print(sess, show_value(emu, name))
        elif val:
            old = int(emu.prefs.get(name) or 0)
            if typ == "bool":
                new = 1 if formatting.atoi(val) else 0
                if val.upper() in ("YES", "ON"):
                    new = 1
                if val.upper() in ("NO", "OFF"):
                    new = 0
            elif on:
                new = old | formatting.atoi(val)
            elif off:
                new = old & ~formatting.atoi(val)
            else:
                new = formatting.atoi(val)
            emu.prefs.set(name, new)
            if not quiet:
                c.print(sess, "%s set to: %d (was: %d)\n" % (var, new, old))
        else:
            c.print(sess, show_value(emu, name))
    if not finds and not quiet:
        c.print(sess, "No such variable.\n")
    elif finds:
        save_config(emu)
    return True


def config_text(emu: "Emulator") -> str:
    """hexchat.conf as ``save_config`` writes it."""
    lines = ["version = %s" % emu.VERSION]
    for name in PREFS:
        lines.append("%s = %s" % (name, emu.prefs.get(name)))
    return "\n".join(lines) + "\n"


def save_config(emu: "Emulator") -> None:
    """Written to a temporary file and renamed into place, as HexChat does."""
    path = os.path.join(emu.config_dir, "hexchat.conf")
    tmp = path + ".new"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(config_text(emu))
    os.replace(tmp, path)
