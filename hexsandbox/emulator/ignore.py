"""The ignore list (ignore.c): masks with PRIV/NOTI/CHAN/CTCP/DCC/INVI/UNIG
bits, checked on incoming messages, listed by ``/ignore`` and by
``get_list('ignore')``. Kept in memory; HexChat writes ignore.conf when it
exits, which an emulator never does."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List

from .state import rfc_lower

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator
    from .state import Session

IG_PRIV = 1
IG_NOTI = 2
IG_CHAN = 4
IG_CTCP = 8
IG_INVI = 16
IG_UNIG = 32
IG_NOSAVE = 64
IG_DCC = 128
IG_ALL = IG_PRIV | IG_NOTI | IG_CHAN | IG_CTCP | IG_INVI | IG_DCC

_WORDS = {"UNIGNORE": IG_UNIG, "ALL": IG_ALL, "PRIV": IG_PRIV, "NOTI": IG_NOTI,
          "CHAN": IG_CHAN, "CTCP": IG_CTCP, "INVI": IG_INVI, "NOSAVE": IG_NOSAVE,
          "DCC": IG_DCC}
#: ignore_showlist's columns, in order
_COLUMNS = (IG_PRIV, IG_NOTI, IG_CHAN, IG_CTCP, IG_DCC, IG_INVI, IG_UNIG)


@dataclass
class Ignore:
    mask: str
    type: int


@dataclass
class IgnoreArgs:
    """``cmd_ignore``'s reading of its words."""

    mask: str
    type: int = 0
    quiet: bool = False
    unknown: List[str] = field(default_factory=list)


def parse_ignore_args(word: List[str]) -> IgnoreArgs:
    """Types and options after the mask (ALL when none); a bare nick becomes
    ``nick!*@*``."""
    mask = word[2]
    if not any(ch in mask for ch in "!@?*"):
        mask += "!*@*"
    args = IgnoreArgs(mask)
    names = [w for w in word[3:] if w] or ["ALL"]
    for name in names:
        up = name.upper()
        if up == "QUIET":
            args.quiet = True
        elif up in _WORDS:
            args.type |= _WORDS[up]
        else:
            args.unknown.append(name)
    return args


def _match(mask: str, host: str) -> bool:
    """HexChat's ``match``: wildcards, RFC 1459 case-insensitive."""
    return fnmatch.fnmatchcase(rfc_lower(host), rfc_lower(mask).replace("[", "[[]"))


class IgnoreList:
    """The ignore list of one emulator."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self.entries: List[Ignore] = []

    def find(self, mask: str) -> "Ignore | None":
        return next((i for i in self.entries if rfc_lower(i.mask) == rfc_lower(mask)), None)

    def add(self, mask: str, type_: int) -> int:
        """``ignore_add(overwrite=TRUE)``: 1 new, 2 changed; new ones go first."""
        found = self.find(mask)
        if found is not None:
            found.type = type_
            return 2
        self.entries.insert(0, Ignore(mask, type_))
        return 1

    def remove(self, mask: str) -> bool:
        found = self.find(mask)
        if found is None:
            return False
        self.entries.remove(found)
        return True

    def check(self, host: str, type_: int) -> bool:
        """``ignore_check``: an UNIGNORE entry of that type wins."""
        for ig in self.entries:
            if ig.type & IG_UNIG and ig.type & type_ and _match(ig.mask, host):
                return False
        return any(ig.type & type_ and _match(ig.mask, host) for ig in self.entries)

    def show(self, sess: "Session") -> None:
        """``ignore_showlist``: header, one row per mask, footer."""
        emu = self.emu
        emu.emit(sess, "Ignore Header")
        for ig in self.entries:
            row = " %-25s " % ig.mask + "".join("YES  " if ig.type & bit else "NO   "
                                                for bit in _COLUMNS)
            emu.print_text(sess, row + "\n")
        if not self.entries:
            emu.emit(sess, "Ignorelist Empty")
        emu.emit(sess, "Ignore Footer")
