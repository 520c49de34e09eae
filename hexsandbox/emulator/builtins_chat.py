"""Built-ins that talk and move between channels and servers (outbound.c's
cmd_say, cmd_me, cmd_msg, cmd_join, cmd_part, cmd_server, ...).

Each handler gets HexChat-style 1-based ``word``/``word_eol`` and returns
False when HexChat's would (the caller then prints the usage). Nothing here
fakes a server answer: lines go out through ``Commands.send`` and the fake
server (``fake_server.py``) answers what a real one would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from .state import SESS_CHANNEL, SESS_DIALOG, SESS_SERVER, Session

if TYPE_CHECKING:  # pragma: no cover
    from .commands import Commands, Handler


def cmd_say(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    c.handle_say(sess, word_eol[2])
    return True


def cmd_me(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    act = word_eol[2]
    if not act:
        return False
    if sess.type == SESS_SERVER:
        c.print(sess, "No channel joined. Try /join #<channel>")
        return True
    if not c.need_server(sess):
        return True
    c.send("PRIVMSG %s :\x01ACTION %s\x01" % (sess.channel, act))
    c.emu.messages.action(sess, sess.channel, sess.server.nick, "", act, fromme=True)
    return True


def cmd_msg(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    nick, msg = word[2], word_eol[3]
    if not nick or not msg:
        return False
    if nick == ".":
        if sess.lastnick:
            nick = sess.lastnick
    else:
        sess.lastnick = nick
    if nick.startswith("="):
        emu.emit(sess, "No DCC")
        return True
    if not c.need_server(sess):
        return True
    c.send("PRIVMSG %s :%s" % (nick, msg))
    serv = sess.server
    target = emu.find_dialog(serv, nick) or emu.find_channel(serv, nick)
    if target:
        emu.messages.chanmsg(serv, None, target.channel, serv.nick, msg, fromme=True)
    else:
        shown = msg
        if nick.lower() == "nickserv":
            if msg.lower().startswith("identify "):
                shown = "identify ****"
            elif msg.lower().startswith("ghost "):
                shown = "ghost ****"
        emu.emit(sess, "Message Send", nick, shown)
    return True


def cmd_notice(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word[2] or not word_eol[3]:
        return False
    c.send("NOTICE %s :%s" % (word[2], word_eol[3]))
    c.emu.emit(sess, "Notice Send", word[2], word_eol[3])
    return True


def cmd_query(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    nick, msg, focus = word[2], word_eol[3], True
    if word[2] == "-nofocus":
        nick, msg, focus = word[3], word_eol[4], False
    serv = sess.server
    if not nick or serv.is_channel(nick):
        return False
    target = emu.find_dialog(serv, nick)
    if not target:
        target = emu.messages.open_dialog(serv, nick, focus=focus)
    elif focus:
        emu.bring_to_front(target)
    if msg:
        if not c.need_server(sess):
            return True
        c.send("PRIVMSG %s :%s" % (nick, msg))
        emu.messages.chanmsg(serv, target, target.channel, serv.nick, msg, fromme=True)
    return True


def cmd_join(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    chan = word[2]
    if not chan:
        return False
    found = c.emu.find_channel(sess.server, chan)
    if found:
        c.emu.bring_to_front(found)
        return True
    key = word[3]
    c.send("JOIN %s %s" % (chan, key) if key else "JOIN %s" % chan)
    return True


def part_line(chan: str, reason: str) -> str:
    """``irc_part``: the trailing only with a reason."""
    return "PART %s :%s" % (chan, reason) if reason else "PART %s" % chan


def cmd_part(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    chan = word[2] or sess.channel
    if not chan or not sess.server.is_channel(chan):
        return False
    reason = word_eol[3] or str(c.emu.prefs.get("irc_part_reason") or "")
    c.send(part_line(chan, reason))
    return True


def cmd_cycle(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    chan = word[2] or sess.channel
    found = c.emu.find_channel(sess.server, chan) if chan else None
    if not found or found.type != SESS_CHANNEL:
        return False
    c.send(part_line(chan, ""))  # irc_cycle: PART without a reason, then JOIN
    c.send("JOIN %s %s" % (chan, found.channelkey) if found.channelkey else "JOIN %s" % chan)
    return True


def cmd_nick(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    nick = word[2]
    if not nick:
        return False
    serv = sess.server
    if serv.connected:
        c.send("NICK %s" % nick)
    else:
        c.emu.inbound.newnick(serv, serv.nick, nick, quiet=True, stamp=0)
    return True


def cmd_topic(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    serv = sess.server
    if word[2] and serv.is_channel(word[2]):
        chan, text = word[2], word_eol[3]
    else:
        chan, text = sess.channel, word_eol[2]
    c.send("TOPIC %s :%s" % (chan, text) if text else "TOPIC %s" % chan)
    return True


def cmd_away(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """``cmd_away``: the reason is kept now; being away starts with the 306."""
    serv = sess.server
    reason = word_eol[2]
    if not reason:
        if serv.is_away:
            if serv.away_reason:
                c.print(sess, "Already marked away: %s\n" % serv.away_reason)
            return False
        reason = str(c.emu.prefs.get("away_reason"))
    c.send("AWAY :%s" % (reason or " "))
    serv.away_reason = reason
    return True


def cmd_back(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    serv = sess.server
    if serv.is_away:
        c.send("AWAY")
    else:
        c.print(sess, "Already marked back.\n")
    serv.away_reason = None
    return True


def cmd_quote(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    c.send(word_eol[2])
    return True


def cmd_ctcp(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    to, msg = word[2], word_eol[3]
    if not to or not msg:
        return False
    first, sp, rest = msg.partition(" ")
    msg = first.upper() + sp + rest
    c.send("PRIVMSG %s :\x01%s\x01" % (to, msg))
    c.emu.emit(sess, "CTCP Send", to, msg)
    return True


def cmd_nctcp(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[3]:
        return False
    c.send("NOTICE %s :\x01%s\x01" % (word[2], word_eol[3]))
    return True


def cmd_ping(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """``make_ping_time`` is a clock value: the emulator's virtual ms."""
    stamp = str(c.emu.now)
    if word[2]:
        c.send("PRIVMSG %s :\x01PING %s\x01" % (word[2], stamp))
    else:
        c.send("PING %s" % stamp)
    return True


def cmd_echo(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    c.print(sess, word_eol[2])
    return True


def cmd_close(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    emu = c.emu
    if word[2] == "-m":
        for other in [s for s in emu.sessions.values() if s.type == SESS_DIALOG]:
            emu.close_session(other)
        return True
    if sess.type == SESS_CHANNEL and sess.channel and sess.server.connected:
        reason = word_eol[2] or str(emu.prefs.get("irc_part_reason") or "")
        c.send(part_line(sess.channel, reason))
    emu.close_session(sess)
    return True


def _disconnect(c: "Commands", sess: Session, reason: str) -> None:
    emu = c.emu
    serv = sess.server
    if serv.connected:
        c.send("QUIT :%s" % reason)
        serv.connected = False
        serv.end_of_motd = False
        emu.emit(emu.sessions[serv.server_session], "Disconnected", "Connection closed")
    for other in emu.sessions.values():
        if other.server is serv and other.type == SESS_CHANNEL:
            other.users.clear()


def cmd_server(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """No network: drop channel state and play the registration again."""
    offset = 1 if word[2] in ("-ssl", "-e", "-ssl-noverify") else 0
    name = word[2 + offset]
    if not name:
        return False
    serv = sess.server
    _disconnect(c, sess, str(c.emu.prefs.get("irc_quit_reason")))
    serv.hostname = name
    serv.servername = name
    from . import world
    world.connect(c.emu)
    return True


def cmd_newserver(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """``-noconnect`` opens a server tab named after the host, without
    connecting (as HexChat: the flag is not a host name)."""
    emu = c.emu
    if word[2] == "-noconnect":
        emu.new_server(word[3], focus=False)
        return True
    serv = emu.new_server(word[2], focus=True)
    cmd_server(c, emu.sessions[serv.server_session], word, word_eol)
    return True  # cmd_newserver ignores what cmd_server says


def cmd_quit(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    _disconnect(c, sess, word_eol[2] or str(c.emu.prefs.get("irc_quit_reason")))
    return True


def cmd_discon(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    _disconnect(c, sess, str(c.emu.prefs.get("irc_quit_reason")))
    return True


def cmd_invite(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word[2]:
        return False
    c.send("INVITE %s %s" % (word[2], word[3] or sess.channel))
    return True


def cmd_names(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    c.send("NAMES %s" % (word[2] or sess.channel))
    return True


def cmd_id(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word[2]:
        return False
    c.send("PRIVMSG NickServ :IDENTIFY %s" % word[2])
    return True


def cmd_recv(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    c.emu.inbound.handle_line(word_eol[2])
    return True


def cmd_charset(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    offset = 1 if word[2] == "-quiet" else 0
    name = word[2 + offset]
    if not name:
        c.print(sess, "Current charset: UTF-8\n")
    elif name.upper().replace("-", "") in ("UTF8", "UTF8JUNK"):
        if not offset:
            c.print(sess, "Charset changed to: %s\n" % name)
    else:
        c.print(sess, "\x034Unknown charset:\x0f %s\n" % name)
    return True


def cmd_flushq(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    c.print(sess, "Flushing server send queue, 0 bytes.\n")  # nothing is ever queued
    return True


def cmd_lagcheck(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    return True  # the emulator has no lag to measure


def _run_in(c: "Commands", targets: List[Session], text: str) -> None:
    for target in targets:
        if target.id in c.emu.sessions:
            c.handle_command(target, text)


def cmd_allchan(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    _run_in(c, [s for s in c.emu.sessions.values() if s.type == SESS_CHANNEL and s.channel
                and s.server.connected], word_eol[2])
    return True


def cmd_allchanl(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    _run_in(c, [s for s in c.emu.sessions.values() if s.type == SESS_CHANNEL and s.channel
                and s.server is sess.server and s.server.connected], word_eol[2])
    return True


def cmd_allserv(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    emu = c.emu
    _run_in(c, [emu.sessions.get(s.front_session) or emu.sessions[s.server_session]
                for s in emu.servers if s.connected], word_eol[2])
    return True


def cmd_doat(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """``cmd_doat``: ``channel,channel/network`` targets, then the command."""
    if not word[2] or not word_eol[3]:
        return False
    emu = c.emu
    for spec in word[2].split(","):
        chan, _slash, net = spec.partition("/")
        ctx = emu.find_context(net or None, chan or None)
        if ctx is not None:
            c.handle_command(emu.sessions[ctx], word_eol[3])
    return True


def cmd_setcursor(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word[2]:
        return False
    c.emu.set_cursor(sess, word[2])
    return True


def cmd_settext(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    c.emu.set_inputbox(word_eol[2], sess.id)
    return True


def cmd_wallchop(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word_eol[2]:
        return False
    ops = [u.nick for u in sess.users if "@" in (getattr(u, "extra_prefixes", "") or u.prefix)
           and not u.me]
    if ops:
        c.send("NOTICE %s :[@%s] %s" % (",".join(ops), sess.channel, word_eol[2]))
    return True


HANDLERS: Dict[str, "Handler"] = {
    name[4:]: fn for name, fn in globals().items() if name.startswith("cmd_") and callable(fn)
}
