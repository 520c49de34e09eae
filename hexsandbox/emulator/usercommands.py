"""User commands: the default ``commands.conf`` of HexChat 2.16.1 and how a
user command runs (outbound.c ``user_command`` / ``auto_insert``).

A fresh HexChat does not write commands.conf (it was not in the config dir
after a first run, see docs/emulator.md); it uses these defaults, so e.g.
``/raw``, ``/leave`` and ``/dialog`` are user commands, not built-ins: a user
command runs instead of a built-in of the same name.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from .commands import Commands
    from .state import Session


@dataclass(frozen=True)
class UserCommand:
    name: str
    cmd: str


#: ``defaultconf_commands`` of hexchat.c, in its order.
DEFAULT_USER_COMMANDS: Tuple[UserCommand, ...] = tuple(UserCommand(n, c) for n, c in (
    ("ACTION", "me &2"), ("AME", "allchan me &2"), ("ANICK", "allserv nick &2"),
    ("AMSG", "allchan say &2"), ("BANLIST", "quote MODE %c +b"), ("CHAT", "dcc chat %2"),
    ("DIALOG", "query %2"), ("DMSG", "msg =%2 &3"), ("EXIT", "quit"),
    ("GREP", "lastlog -r -- &2"), ("IGNALL", "ignore %2!*@* ALL"), ("J", "join &2"),
    ("KILL", "quote KILL %2 :&3"), ("LEAVE", "part &2"), ("M", "msg &2"),
    ("OMSG", "msg @%c &2"), ("ONOTICE", "notice @%c &2"), ("RAW", "quote &2"),
    ("SERVHELP", "quote HELP"), ("SPING", "ping"), ("SQUERY", "quote SQUERY %2 :&3"),
    ("SSLSERVER", "server -ssl &2"), ("SV", "echo HexChat %v %m"), ("UMODE", "mode %n &2"),
    ("UPTIME", "quote STATS u"), ("VER", "ctcp %2 VERSION"), ("VERSION", "ctcp %2 VERSION"),
    ("WALLOPS", "quote WALLOPS :&2"), ("WI", "quote WHOIS %2"), ("WII", "quote WHOIS %2 %2"),
))

#: What ``%m`` (``get_sys_str``) gives on the emulator: a fixed machine.
SYS_STR = "Linux [x86_64/2.00GHz]"


def auto_insert(src: str, word: List[str], word_eol: List[str], channel: str, network: str,
                nick: str, version: str) -> Optional[str]:
    """``auto_insert`` for user commands: ``%N``/``&N`` are word/word_eol N
    (None, "bad arguments", when word N is empty), ``%c`` the channel, ``%e``
    the network, ``%n`` the nick, ``%v`` the version, ``%m`` the machine,
    ``%t`` the time, ``%y`` the date, ``%%`` a '%', ``%NNN`` a byte."""
    out: List[str] = []
    values = {"a": "", "c": channel, "d": "", "e": network, "h": "", "n": nick, "s": "", "u": "",
              "v": version, "m": SYS_STR}
    i = 0
    while i < len(src):
        ch = src[i]
        if ch in "%&" and i + 1 < len(src):
            nxt = src[i + 1]
            if nxt.isdigit():
                if src[i + 2:i + 4].isdigit() and len(src[i + 2:i + 4]) == 2:
                    out.append(chr(int(src[i + 1:i + 4]) & 0xFF))
                    i += 4
                    continue
                num = int(nxt)
                if not word[num]:
                    return None
                out.append(word[num] if ch == "%" else word_eol[num])
                i += 2
                continue
            if ch == "%":
                if nxt == "%":
                    out.append("%")
                elif nxt in values:
                    out.append(values[nxt])
                elif nxt == "t":
                    out.append(_time.ctime()[:19])
                elif nxt == "y":
                    out.append(_time.strftime("%Y%m%d"))
                else:
                    out.append(ch)
                    i += 1
                    continue
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def run(cmds: "Commands", sess: "Session", uc: UserCommand, word: List[str],
        word_eol: List[str]) -> None:
    """``user_command``: expand, then run the result as a command."""
    emu = cmds.emu
    serv = sess.server
    text = auto_insert(uc.cmd, word, word_eol, sess.channel, serv.network or serv.servername,
                       serv.nick, emu.VERSION)
    if text is None:
        cmds.print(sess, "Bad arguments for user command.\n")
        return
    cmds.handle_command(sess, text, check_spch=True)
