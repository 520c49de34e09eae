"""A ready-made world for tests: a realistic registration and a joined channel,
played as the lines a server sends (``Emulator.connect`` / ``Emulator.join``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator


def connect(emu: "Emulator", nick: Optional[str] = None, servername: Optional[str] = None,
            isupport: Optional[Dict[str, str]] = None, motd: Optional[List[str]] = None) -> None:
    """Connected event, the login lines HexChat sends, then 001-005 and a MOTD."""
    serv = emu.serv
    nick = nick or serv.nick
    servername = servername or serv.hostname
    server_sess = emu.sessions[serv.server_session]
    emu.emit(server_sess, "Connected")
    emu.sent.append("CAP LS 302")
    emu.sent.append("NICK %s" % serv.nick)
    emu.sent.append("USER %s 0 * :%s" % (emu.prefs.get("irc_user_name"),
                                          emu.prefs.get("irc_real_name")))
    tokens = {"CHANTYPES": "#&", "PREFIX": "(ov)@+", "CASEMAPPING": "rfc1459",
              "CHANMODES": "beI,k,l,imnpst", "MODES": "4"}
    # No NETWORK= by default: with it HexChat renames the server tab to the
    # network (inbound_005); pass isupport={"NETWORK": ...} for that.
    if isupport:
        tokens.update(isupport)
    isup = " ".join("%s=%s" % kv if kv[1] != "" else kv[0] for kv in tokens.items())
    lines = [
        ":%s 001 %s :Welcome to the %s IRC Network %s!%s@localhost"
        % (servername, nick, serv.network, nick, emu.user),
        ":%s 002 %s :Your host is %s, running version emu-1.0" % (servername, nick, servername),
        ":%s 003 %s :This server was created today" % (servername, nick),
        ":%s 004 %s %s emu-1.0 iosw biklmnopstv bklov" % (servername, nick, servername),
        ":%s 005 %s %s :are supported by this server" % (servername, nick, isup),
        ":%s 375 %s :- %s Message of the Day -" % (servername, nick, servername),
    ]
    for text in (motd if motd is not None else ["Welcome to the emulated network."]):
        lines.append(":%s 372 %s :- %s" % (servername, nick, text))
    lines.append(":%s 376 %s :End of /MOTD command." % (servername, nick))
    for line in lines:
        emu.inbound.handle_line(line)

def join(emu: "Emulator", channel: str, users: List[str], topic: Optional[str], host: str,
         modes: Optional[str]) -> int:
    """The server's answer to our JOIN: JOIN echo, topic, names list, and
    the 324 answer to HexChat's MODE query."""
    serv = emu.serv
    me = serv.nick
    sname = serv.servername
    emu.inbound.handle_line(":%s!%s JOIN %s" % (me, host, channel))
    if topic is not None:
        emu.inbound.handle_line(":%s 332 %s %s :%s" % (sname, me, channel, topic))
        emu.inbound.handle_line(":%s 333 %s %s op!op@localhost 1700000000" % (sname, me, channel))
    names = [me] + [u for u in users if serv.cmp(u.lstrip(serv.nick_prefixes), me) != 0]
    emu.inbound.handle_line(":%s 353 %s = %s :%s" % (sname, me, channel, " ".join(names)))
    emu.inbound.handle_line(":%s 366 %s %s :End of /NAMES list." % (sname, me, channel))
    if modes is not None:
        emu.inbound.handle_line(":%s 324 %s %s %s" % (sname, me, channel, modes))
    sess = emu.find_channel(serv, channel)
    assert sess is not None
    return sess.id
