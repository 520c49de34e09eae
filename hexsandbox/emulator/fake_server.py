"""The emulator's stand-in for an IRC server: what ngircd (the server the e2e
tests run) sends back for the lines a client sends, for the commands whose
answer changes what HexChat shows. The scripted e2e server
(tests/e2e/harness/scripted_server.py) answers the same way, and
tests/e2e/differential/test_server_echoes.py checks both against a real
ngircd.

Measured on ngircd (with us as channel operator):

* ``JOIN #c`` -> ``:me JOIN #c``, 353 (``= #c :names``), 366;
* ``PART #c [:reason]`` -> ``:me PART #c :reason`` (an empty trailing
  when there is no reason), also for a raw ``PART`` sent with ``/quote``;
* ``KICK #c nick [:reason]`` -> ``:me KICK #c nick :reason``, the reason
  defaulting to our nick;
* ``AWAY :text`` -> 306 ``You have been marked as being away``, ``AWAY``
  -> 305 ``You are no longer marked as being away`` (each time);
* ``TOPIC #c :text`` -> the echo; ``NICK new`` -> ``:me NICK :new``;
* ``MODE #c <changes with arguments>`` -> the echo.

PRIVMSG/NOTICE are not echoed (no echo-message). Answers are delivered like
network traffic: after what is already queued has run (``Emulator.pump``),
never in the middle of the command or hook that sent the line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, List

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

AWAY_TEXT = "You have been marked as being away"
BACK_TEXT = "You are no longer marked as being away"


def _split(line: str) -> "tuple[str, List[str], str | None]":
    """Command, middle parameters, trailing (None when absent)."""
    head, sep, trailing = line.partition(" :")
    parts = head.split()
    if not parts:
        return "", [], None
    return parts[0].upper(), parts[1:], trailing if sep else None


def answers(line: str, me: str, server: str, nick: str, flag_modes: str = "imnpst") -> List[str]:
    """The lines the server sends back for ``line`` (``me``: our prefix)."""
    cmd, args, trailing = _split(line)
    if cmd == "JOIN" and args:
        out = []
        for chan in args[0].split(","):
            if chan:
                out += [":%s JOIN %s" % (me, chan),
                        ":%s 353 %s = %s :%s" % (server, nick, chan, nick),
                        ":%s 366 %s %s :End of /NAMES list." % (server, nick, chan)]
        return out
    if cmd == "PART" and args:
        return [":%s PART %s :%s" % (me, chan, trailing or "") for chan in args[0].split(",") if chan]
    if cmd == "KICK" and len(args) >= 2:
        return [":%s KICK %s %s :%s" % (me, args[0], args[1], trailing or nick)]
    if cmd == "AWAY":
        if trailing or (args and args[0]):
            return [":%s 306 %s :%s" % (server, nick, AWAY_TEXT)]
        return [":%s 305 %s :%s" % (server, nick, BACK_TEXT)]
    if cmd == "TOPIC" and args and trailing is not None:
        return [":%s TOPIC %s :%s" % (me, args[0], trailing)]
    if cmd == "NICK" and (args or trailing):
        return [":%s NICK :%s" % (me, args[0] if args else trailing)]
    if cmd == "MODE" and len(args) >= 2 and args[0][:1] in "#&":
        changes = args[1]
        if len(args) > 2 or (changes.strip("+-") and all(ch in flag_modes + "+-" for ch in changes)):
            return [":%s MODE %s" % (me, " ".join(args))]
    return []


class FakeServer:
    """Answers an :class:`Emulator`'s raw lines (``server_echo=True``)."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu

    def on_sent(self, line: str) -> None:
        emu = self.emu
        serv = emu.serv
        if not emu.server_echo or not serv.connected:
            return
        me = "%s!%s@localhost" % (serv.nick, emu.user)
        flags = serv.chanmodes.split(",")[3] if serv.chanmodes.count(",") >= 3 else "imnpst"
        for reply in answers(line, me, serv.servername, serv.nick, flags):
            emu.deliver_later(reply)
