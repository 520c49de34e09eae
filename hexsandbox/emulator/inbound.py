"""Lines from the IRC server: server hooks, state changes, text events.

Follows the order of HexChat's ``irc_inline`` (proto-irc.c): server hooks
('RAW LINE' and the command name, in hook-list order) run first with the
context set to the channel named by word 3 (else the server's front tab); if
one eats the line for HexChat nothing else happens. Then the numeric or named
message is processed as inbound.c / modes.c do: state first or last exactly
where HexChat does it, and the text events it emits.
"""

from __future__ import annotations

import calendar
import re
import time as _time
from typing import TYPE_CHECKING, Dict, List, Optional

from . import formatting
from .hooks import SERVER, SERVER_ATTRS
from .state import (SESS_CHANNEL, SESS_DIALOG, SESS_NOTICES, SESS_SERVER,
                    SESS_SNOTICES, Server, Session)

if TYPE_CHECKING:  # pragma: no cover
    from . import Emulator

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$")


def parse_server_time(value: str) -> int:
    """An IRCv3 ``time`` tag as int UTC seconds (0 if unparsable)."""
    m = _TIME_RE.match(value)
    if not m:
        return 0
    y, mo, d, h, mi, s = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def _colon(s: str) -> str:
    return s[1:] if s.startswith(":") else s


#: Modes whose changes HexChat collects into one line per MODE message
#: ('Channel Operator'/'Channel Voice' events with all the nicks).
_GROUPED_MODES: Dict[tuple, str] = {
    ("+", "o"): "op", ("+", "v"): "voice", ("-", "o"): "deop", ("-", "v"): "devoice",
}

#: The text event HexChat's handle_single_mode emits for a channel mode;
#: anything else is 'Channel Mode Generic'.
_MODE_EVENTS: Dict[tuple, str] = {
    ("+", "k"): "Channel Set Key", ("+", "l"): "Channel Set Limit",
    ("+", "h"): "Channel Half-Operator", ("+", "b"): "Channel Ban",
    ("+", "e"): "Channel Exempt", ("+", "I"): "Channel INVITE",
    ("-", "k"): "Channel Remove Keyword", ("-", "l"): "Channel Remove Limit",
    ("-", "h"): "Channel DeHalfOp", ("-", "b"): "Channel UnBan",
    ("-", "e"): "Channel Remove Exempt", ("-", "I"): "Channel Remove Invite",
    ("+", "q"): "Channel Quiet", ("-", "q"): "Channel UnQuiet",  # where q is a list mode
}


class Inbound:
    """Processes one raw line at a time for an :class:`Emulator`."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu

    # ------------------------------------------------------------------
    def handle_line(self, line: str) -> None:
        emu = self.emu
        serv = emu.serv
        line = line.rstrip("\r\n")
        stamp = 0
        if line.startswith("@"):
            sep = line.find(" ")
            if sep < 0:
                return
            tags, line = line[1:sep], line[sep + 1:]
            for tag in tags.split(";"):
                key, eq, value = tag.partition("=")
                if eq and key == "time" and serv.have_server_time:
                    stamp = parse_server_time(value)
        word, word_eol = formatting.split_words(line)
        sess = emu.sessions.get(serv.front_session) or emu.sessions[serv.server_session]
        if line.startswith(":"):
            if serv.is_channel(word[2]):
                found = emu.find_channel(serv, word[2])
                if found:
                    sess = found
            mtype = word[1]
        else:
            mtype = word[0]
        if self._run_server_hooks(sess, mtype, word, word_eol, stamp):
            return
        if not line.startswith(":"):
            self._named_servermsg(sess, line, word, word_eol, stamp)
            return
        # HexChat drops the ':' of word 1 for its own processing
        word = [word[0][1:]] + word[1:]
        word_eol = [word_eol[0][1:]] + word_eol[1:]
        if word[1][:1].isdigit():
            text = _colon(word_eol[3])
            self._numeric(sess, _atoi(word[1]), word, word_eol, text, stamp)
        else:
            self._named(sess, mtype, word, word_eol, stamp)

    def _run_server_hooks(self, sess: Session, mtype: str, word: List[str],
                          word_eol: List[str], stamp: int) -> bool:
        return self.emu.run_word_hooks(sess, SERVER | SERVER_ATTRS, mtype, formatting.trim_words(word),
                                       formatting.trim_words(word_eol), stamp)

    # ------------------------------------------------------------------
    def _named_servermsg(self, sess: Session, buf: str, word: List[str], word_eol: List[str],
                         stamp: int) -> None:
        emu = self.emu
        serv = sess.server
        sess = emu.sessions[serv.server_session]
        if buf.startswith("PING "):
            emu.sent.append("PONG %s" % buf[5:])
            return
        if buf.startswith("ERROR"):
            emu.emit(sess, "Server Error", buf[7:], stamp=stamp)
            return
        if buf.startswith("NOTICE "):
            emu.emit(sess, "Server Notice", _colon(word_eol[2]), serv.servername, stamp=stamp)
            return
        emu.emit(sess, "Server Text", buf, serv.servername, word[0], stamp=stamp)

    # ------------------------------------------------------------------
    def _numeric(self, sess: Session, n: int, word: List[str], word_eol: List[str],
                 text: str, stamp: int) -> None:
        emu = self.emu
        serv = sess.server
        server_sess = emu.sessions[serv.server_session]
        if n == 1:
            self._login_start(serv, word[2], word[0])
        elif n == 5:
            self._isupport(serv, word)
        elif n == 301:
            emu.emit(emu.sessions.get(serv.front_session, server_sess), "WhoIs Away Line",
                     word[3], _colon(word_eol[4]), stamp=stamp)
            return
        elif n == 305:
            self._set_away(serv, False)
        elif n == 306:
            self._set_away(serv, True)
        elif n == 324:
            chan = emu.find_channel(serv, word[3])
            if chan:
                chan.modes = word_eol[4]
                if chan.ignore_mode:  # the reply to the MODE sent on joining
                    chan.ignore_mode = False
                else:
                    emu.emit(chan, "Channel Modes", word[3], word_eol[4], stamp=stamp)
            else:
                emu.emit(emu.sessions.get(serv.front_session, server_sess), "Channel Modes",
                         word[3], word_eol[4], stamp=stamp)
            return
        elif n == 352:
            # WHO reply: inbound_user_info -> userlist_add_hostname; shown in the
            # server tab unless it answers the WHO sent on joining
            chan = emu.find_channel(serv, word[3])
            if chan:
                user = chan.find_user(word[7])
                if user is not None:
                    if not user.host:
                        user.host = "%s@%s" % (word[4], word[5])
                    realname = word_eol[10] if len(word_eol) > 10 else ""
                    if not user.realname and realname:
                        user.realname = realname
                    user.away = 1 if word[8][:1] == "G" else 0
            if not chan or not chan.doing_who:
                emu.emit(server_sess, "Server Text", text, word[0], word[1], stamp=stamp)
            return
        elif n == 315:
            chan = emu.find_channel(serv, word[3])
            if chan and chan.doing_who:
                chan.doing_who = False
            else:
                emu.emit(server_sess, "Server Text", text, word[0], word[1], stamp=stamp)
            return
        elif n == 332:
            chan_name = word[3]
            topic = _colon(word_eol[4])
            chan = emu.find_channel(serv, chan_name)
            if chan:
                chan.topic = topic
            emu.emit(chan or server_sess, "Topic", chan_name, topic, stamp=stamp)
            return
        elif n == 333:
            chan = emu.find_channel(serv, word[3])
            when = _atoi(_colon(word[5]))
            tim = _ctime(when)  # ctime(), newline dropped, as HexChat
            emu.emit(chan or server_sess, "Topic Creation", word[3], word[4], tim, stamp=stamp)
            return
        elif n == 353:
            self._nameslist(serv, word[4], _colon(word_eol[5]), stamp)
            return
        elif n == 366:
            if self._nameslist_end(serv, word[3]):
                return
        elif n in (372, 375):
            if not emu.prefs.get("irc_skip_motd"):
                emu.emit(server_sess, "Motd", text, stamp=stamp)
            return
        elif n in (376, 422):
            self._login_end(serv, text, stamp)
            return
        # def: Server Text in the channel, an open dialog, or the server tab
        target = server_sess
        if serv.is_channel(word[3]):
            target = emu.find_channel(serv, word[3]) or server_sess
        else:
            target = emu.find_dialog(serv, word[3]) or server_sess
        emu.emit(target, "Server Text", text, word[0], word[1], stamp=stamp)

    def _login_start(self, serv: Server, nick: str, servname: str) -> None:
        emu = self.emu
        if serv.cmp(serv.nick, nick) != 0:
            self._newnick(serv, serv.nick, nick, quiet=True, stamp=0)
        serv.servername = servname
        serv.connected = True
        server_sess = emu.sessions[serv.server_session]
        server_sess.channel = servname

    def _isupport(self, serv: Server, word: List[str]) -> None:
        for token in word[3:]:
            if not token or token.startswith(":"):
                break
            name, _eq, value = token.partition("=")
            name = name.upper()
            if name == "CHANTYPES" and value:
                serv.chantypes = value
            elif name == "PREFIX" and value.startswith("("):
                modes, _p, prefixes = value[1:].partition(")")
                serv.nick_modes, serv.nick_prefixes = modes, prefixes
            elif name == "CHANMODES":
                serv.chanmodes = value
            elif name == "CASEMAPPING":
                serv.casemapping = "ascii" if value == "ascii" else "rfc1459"
            elif name == "MODES" and value.isdigit():
                serv.modes_per_line = int(value)
            elif name == "NETWORK":
                # inbound_005: the server tab takes the network's name
                server_sess = self.emu.sessions.get(serv.server_session)
                if server_sess is not None and server_sess.type == SESS_SERVER:
                    server_sess.channel = value
                if not serv.network:
                    serv.network = value

    def _set_away(self, serv: Server, away: bool) -> None:
        serv.is_away = away
        for sess in self.emu.sessions.values():
            if sess.server is serv:
                user = sess.find_user(serv.nick)
                if user:
                    user.away = 1 if away else 0

    def _login_end(self, serv: Server, text: str, stamp: int) -> None:
        emu = self.emu
        server_sess = emu.sessions[serv.server_session]
        serv.end_of_motd = True
        if emu.prefs.get("irc_skip_motd"):
            emu.emit(server_sess, "Motd Skipped", stamp=stamp)
            return
        emu.emit(server_sess, "Motd", text, stamp=stamp)

    def _nameslist(self, serv: Server, chan_name: str, names: str, stamp: int) -> None:
        emu = self.emu
        sess = emu.find_channel(serv, chan_name)
        if not sess:
            emu.emit(emu.sessions[serv.server_session], "Users On Channel", chan_name, names,
                     stamp=stamp)
            return
        if not sess.ignore_names:
            emu.emit(sess, "Users On Channel", chan_name, names, stamp=stamp)
        if sess.end_of_names:
            sess.end_of_names = False
            sess.users.clear()
        for name in names.split(" "):
            if not name:
                continue
            host = ""
            if "!" in name:
                name, host = name.split("!", 1)
            self._add_user(sess, name, host)

    def _add_user(self, sess: Session, name: str, host: str = "", account: str = "",
                  realname: str = "") -> None:
        prefixes = ""
        while name and name[0] in sess.server.nick_prefixes:
            prefixes += name[0]
            name = name[1:]
        user = sess.add_user(name, host, account, realname)
        for p in prefixes:
            _grant(sess, user, p)
        sess.sort_users()

    def _nameslist_end(self, serv: Server, chan_name: str) -> bool:
        emu = self.emu
        targets = [s for s in emu.sessions.values() if s.server is serv] if chan_name == "*" \
            else [s for s in [emu.find_channel(serv, chan_name)] if s]
        for sess in targets:
            sess.end_of_names = True
            sess.ignore_names = False
        return bool(targets)

    # ------------------------------------------------------------------
    def _named(self, sess: Session, mtype: str, word: List[str], word_eol: List[str],
               stamp: int) -> None:
        emu = self.emu
        serv = sess.server
        prefix = word[0]
        if "!" in prefix:
            nick, ip = prefix.split("!", 1)
        else:
            nick = ip = prefix
        up = mtype.upper()
        if up == "JOIN":
            chan = _colon(word[2])
            account = word[3] or None
            if account == "*":
                account = None
            realname = _colon(word_eol[4]) if word_eol[4] else ""
            if serv.cmp(nick, serv.nick) == 0:
                self._ujoin(serv, chan, nick, ip, stamp)
            else:
                target = emu.find_channel(serv, chan)
                if target:
                    emu.emit(target, "Join", nick, chan, ip, account, stamp=stamp)
                    target.add_user(nick, ip, account or "", realname)
        elif up == "PART":
            chan = _colon(word[2])
            reason = _colon(word_eol[3])
            target = emu.find_channel(serv, chan)
            if not target:
                return
            if nick == serv.nick:
                if reason:
                    emu.emit(target, "You Part with Reason", serv.nick, ip, chan, reason, stamp=stamp)
                else:
                    emu.emit(target, "You Part", serv.nick, ip, chan, stamp=stamp)
                self._clear_channel(target)
            else:
                if reason:
                    emu.emit(target, "Part with Reason", nick, ip, chan, reason, stamp=stamp)
                else:
                    emu.emit(target, "Part", nick, ip, chan, stamp=stamp)
                target.remove_user(nick)
        elif up == "KICK":
            kicked = word[3]
            reason = _colon(word_eol[4])
            if not kicked:
                return
            target = emu.find_channel(serv, word[2])
            if not target:
                return
            if kicked == serv.nick:
                emu.emit(target, "You Kicked", serv.nick, word[2], nick, reason, stamp=stamp)
                self._clear_channel(target)
            else:
                emu.emit(target, "Kick", nick, kicked, word[2], reason, stamp=stamp)
                target.remove_user(kicked)
        elif up == "QUIT":
            reason = _colon(word_eol[2])
            for other in list(emu.sessions.values()):
                if other.server is not serv:
                    continue
                user = other.find_user(nick)
                if user:
                    emu.emit(other, "Quit", nick, reason, ip, stamp=stamp)
                    other.remove_user(nick)
                elif other.type == SESS_DIALOG and serv.cmp(other.channel, nick) == 0:
                    emu.emit(other, "Quit", nick, reason, ip, stamp=stamp)
        elif up == "NICK":
            self._newnick(serv, nick, _colon(word_eol[2]), quiet=False, stamp=stamp)
        elif up == "MODE":
            self._mode(serv, word, word_eol, nick, stamp)
        elif up == "TOPIC":
            target = emu.find_channel(serv, word[2])
            if target:
                topic = _colon(word_eol[3])
                emu.emit(target, "Topic Change", nick, topic, word[2], stamp=stamp)
                target.topic = topic
        elif up == "INVITE":
            text = _colon(word_eol[3])
            if serv.cmp(word[2], serv.nick) != 0:
                emu.emit(sess, "Invited Other", text, nick, word[2], serv.servername, stamp=stamp)
            else:
                emu.emit(sess, "Invited", text, nick, serv.servername, stamp=stamp)
        elif up == "NOTICE":
            self._notice(serv, word[2], nick, _colon(word_eol[3]), ip, stamp)
        elif up == "PRIVMSG":
            self._privmsg(sess, serv, word, word_eol, nick, ip, stamp)
        elif up == "PING":
            emu.sent.append("PONG %s" % word_eol[2])
        elif up == "AWAY":
            away = 1 if word_eol[2].startswith(":") else 0
            for other in emu.sessions.values():
                if other.server is serv:
                    user = other.find_user(nick)
                    if user:
                        user.away = away
        elif up == "KILL":
            emu.emit(sess, "Killed", nick, _colon(word_eol[3]), stamp=stamp)
        elif up == "WALLOPS":
            emu.emit(sess, "Receive Wallops", nick, _colon(word_eol[2]), stamp=stamp)
        elif up == "ACCOUNT":
            account = _colon(word[2])
            for other in emu.sessions.values():
                if other.server is serv:
                    user = other.find_user(nick)
                    if user:
                        user.account = "" if account == "*" else account
        elif up == "CAP":
            pass  # capability negotiation is not modelled
        else:
            emu.print_text(sess, "GARBAGE: %s" % word_eol[0])

    # ------------------------------------------------------------------
    def _ujoin(self, serv: Server, chan: str, nick: str, ip: str, stamp: int) -> None:
        emu = self.emu
        sess = emu.find_channel(serv, chan)
        if not sess:
            for other in emu.sessions.values():
                if (other.server is serv and other.type == SESS_CHANNEL and not other.channel
                        and other.waitchannel and serv.cmp(chan, other.waitchannel) == 0):
                    sess = other
                    break
        if not sess:
            for other in emu.sessions.values():
                if other.server is serv and other.type == SESS_CHANNEL and not other.channel \
                        and not other.waitchannel:
                    sess = other
                    break
        if not sess:
            focus = emu.prefs.get("gui_tab_newtofront") != 0
            sess = emu.new_session(serv, SESS_CHANNEL, chan, focus=focus)
        sess.channel = chan
        sess.users.clear()
        sess.waitchannel = ""
        sess.ignore_names = True
        sess.ignore_mode = True
        sess.end_of_names = False
        emu.sent.append("MODE %s" % chan)
        emu.emit(sess, "You Join", nick, chan, ip, stamp=stamp)
        if emu.prefs.get("irc_who_join"):
            emu.sent.append("WHO %s" % chan)
            sess.doing_who = True

    def _clear_channel(self, sess: Session) -> None:
        """``clear_channel``: the tab stays, its channel state goes."""
        sess.waitchannel = sess.channel
        sess.channel = sess.channel  # HexChat keeps the name on the tab
        sess.users.clear()
        sess.topic = None
        sess.modes = ""
        sess.parted = True  # type: ignore[attr-defined]

    def _newnick(self, serv: Server, nick: str, newnick: str, quiet: bool, stamp: int) -> None:
        emu = self.emu
        me = serv.cmp(nick, serv.nick) == 0
        if me:
            serv.nick = newnick
        for sess in list(emu.sessions.values()):
            if sess.server is not serv:
                continue
            user = sess.find_user(nick)
            changed = False
            if user:
                user.nick = newnick
                sess.sort_users()
                changed = True
            if changed or (me and sess.type == SESS_SERVER):
                if not quiet:
                    emu.emit(sess, "Your Nick Changing" if me else "Change Nick", nick, newnick,
                             stamp=stamp)
            if sess.type == SESS_DIALOG and serv.cmp(sess.channel, nick) == 0:
                sess.channel = newnick

    def _privmsg(self, sess: Session, serv: Server, word: List[str], word_eol: List[str],
                 nick: str, ip: str, stamp: int) -> None:
        to = word[2]
        if not to:
            return
        if to[0] not in serv.chantypes and to[0] in serv.nick_prefixes:
            to = to[1:]
        text = _colon(word_eol[3])
        if text.startswith("\x01"):
            body = text[1:]
            if body.endswith("\x01"):
                body = body[:-1]
            if body[:6].upper() == "ACTION":
                action = body[7:] if len(body) > 6 else ""
                self.action(sess, to, nick, ip, action, fromme=False, stamp=stamp)
                return
            self._ctcp(sess, serv, to, nick, ip, body, stamp)
            return
        if serv.is_channel(to):
            self.chanmsg(serv, None, to, nick, text, fromme=False, stamp=stamp)
        else:
            self._privmsg_user(serv, nick, ip, text, stamp)

    def _ctcp(self, sess: Session, serv: Server, to: str, nick: str, ip: str, body: str,
              stamp: int) -> None:
        emu = self.emu
        cmd = body.split(" ", 1)[0].upper()
        if cmd == "VERSION" and not emu.prefs.get("irc_hide_version"):
            emu.sent.append("NOTICE %s :\x01VERSION HexChat %s [x86_64] / Linux\x01" % (nick, emu.VERSION))
        elif cmd == "PING":
            emu.sent.append("NOTICE %s :\x01%s\x01" % (nick, body))
        if serv.is_channel(to):
            target = emu.find_channel(serv, to) or sess
            emu.emit(target, "CTCP Generic to Channel", body, nick, to, stamp=stamp)
        else:
            target = emu.sessions.get(serv.front_session, sess)
            emu.emit(target, "CTCP Generic", body, nick, stamp=stamp)

    def _privmsg_user(self, serv: Server, nick: str, ip: str, text: str, stamp: int) -> None:
        emu = self.emu
        sess = emu.find_dialog(serv, nick)
        if sess or emu.prefs.get("gui_autoopen_dialog"):
            if not sess:
                sess = self.open_dialog(serv, nick, stamp)
            if ip:
                sess.topic = ip
            self.chanmsg(serv, None, None, nick, text, fromme=False, stamp=stamp)
            return
        target = self._session_from_nick(serv, nick)
        nodiag = target is None
        if target is None:
            target = emu.sessions[serv.front_session]
        user = target.find_user(nick)
        if user:
            user.lasttalk = int(_time.time())
        if target.type == SESS_DIALOG and not nodiag:
            emu.emit(target, "Private Message to Dialog", nick, text, "", stamp=stamp)
        else:
            emu.emit(target, "Private Message", nick, text, "", stamp=stamp)

    def open_dialog(self, serv: Server, nick: str, stamp: int = 0, focus: bool = False) -> Session:
        emu = self.emu
        sess = emu.new_session(serv, SESS_DIALOG, nick, focus=focus)
        emu.emit(sess, "Open Dialog", stamp=stamp)
        return sess

    def _session_from_nick(self, serv: Server, nick: str) -> Optional[Session]:
        emu = self.emu
        sess = emu.find_dialog(serv, nick)
        if sess:
            return sess
        front = emu.sessions.get(serv.front_session)
        if front and (nick.lower() == "chanserv" or front.find_user(nick)):
            return front
        cur = emu.sessions.get(emu._front)
        if cur and cur.server is serv and cur.find_user(nick):
            return cur
        for other in emu.sessions.values():
            if other.server is serv and other.find_user(nick):
                return other
        return None

    def is_hilight(self, serv: Server, nick: str, text: str) -> bool:
        emu = self.emu
        if _match_words(nick, str(emu.prefs.get("irc_no_hilight"))):
            return False
        plain = formatting.strip(text, -1, formatting.STRIP_ALL)
        return (_match_text(plain, serv.nick) or _match_text(plain, str(emu.prefs.get("irc_extra_hilight")))
                or _match_words(nick, str(emu.prefs.get("irc_nick_hilight"))))

    def chanmsg(self, serv: Server, sess: Optional[Session], chan: Optional[str], nick: str,
                text: str, fromme: bool, stamp: int = 0) -> None:
        """``inbound_chanmsg``: a message in a channel or dialog (also our own)."""
        emu = self.emu
        if sess is None:
            if chan:
                sess = emu.find_channel(serv, chan)
                if not sess and not serv.is_channel(chan):
                    sess = emu.find_dialog(serv, chan)
            else:
                sess = emu.find_dialog(serv, nick)
            if not sess:
                return
        nickchar, is_me = _speaker(sess, nick)
        fromme = fromme or is_me
        if fromme:
            emu.emit(sess, "Your Message", nick, text, nickchar, None, stamp=stamp)
            return
        hilight = self.is_hilight(serv, nick, text)
        if sess.type == SESS_DIALOG:
            emu.emit(sess, "Private Message to Dialog", nick, text, "", stamp=stamp)
        elif hilight:
            emu.emit(sess, "Channel Msg Hilight", nick, text, nickchar, "", stamp=stamp)
        else:
            emu.emit(sess, "Channel Message", nick, text, nickchar, "", stamp=stamp)

    def action(self, sess: Session, chan: str, nick: str, ip: str, text: str, fromme: bool,
               stamp: int = 0) -> None:
        """``inbound_action``: a CTCP ACTION (also our own /me)."""
        emu = self.emu
        serv = sess.server
        default = sess
        privaction = False
        target: Optional[Session] = sess
        if not fromme:
            if serv.is_channel(chan):
                target = emu.find_channel(serv, chan)
            else:
                privaction = True
                target = emu.find_dialog(serv, nick)
                if not target and emu.prefs.get("gui_autoopen_dialog"):
                    target = self.open_dialog(serv, nick, stamp)
                if not target:
                    target = self._session_from_nick(serv, nick) or emu.sessions[serv.front_session]
        if target is None:
            target = default
        nickchar, is_me = _speaker(target, nick)
        fromme = fromme or is_me
        if not fromme and not privaction and self.is_hilight(serv, nick, text):
            emu.emit(target, "Channel Action Hilight", nick, text, nickchar, "", stamp=stamp)
            return
        if fromme:
            emu.emit(target, "Your Action", nick, text, nickchar, "", stamp=stamp)
        elif not privaction:
            emu.emit(target, "Channel Action", nick, text, nickchar, "", stamp=stamp)
        elif target.type == SESS_DIALOG:
            emu.emit(target, "Private Action to Dialog", nick, text, "", stamp=stamp)
        else:
            emu.emit(target, "Private Action", nick, text, "", stamp=stamp)

    def _notice(self, serv: Server, to: str, nick: str, msg: str, ip: str, stamp: int) -> None:
        emu = self.emu
        sess: Optional[Session] = None
        ptr: Optional[str] = to
        if serv.is_channel(to):
            sess = emu.find_channel(serv, to)
        if not sess and to and to[0] in serv.nick_prefixes:
            sess = emu.find_channel(serv, to[1:])
        server_notice = nick == ip
        if not sess:
            ptr = None
            pos = emu.prefs.get("irc_notice_pos")
            if pos == 0:
                if msg.startswith("[") and nick.lower() == "chanserv" and not emu.find_dialog(serv, nick):
                    end = msg.find("]")
                    if end > 0:
                        sess = emu.find_channel(serv, msg[1:end])
                if not sess:
                    sess = self._session_from_nick(serv, nick)
            elif pos == 1:
                stype = SESS_SNOTICES if server_notice else SESS_NOTICES
                sess = next((s for s in emu.sessions.values()
                             if s.server is serv and s.type == stype), None)
                if not sess:
                    sess = emu.new_session(serv, stype,
                                           "(snotices)" if server_notice else "(notices)")
                if msg.startswith("*** Notice -- "):
                    msg = msg[14:]
            else:
                sess = emu.sessions.get(serv.front_session)
            if not sess:
                sess = emu.sessions[serv.server_session if server_notice else serv.front_session]
        if msg.startswith("\x01"):
            msg = msg[1:]
            if msg.startswith("PING"):
                emu.emit(sess, "Ping Reply", nick, "?", stamp=stamp)
                return
            if msg.endswith("\x01"):
                msg = msg[:-1]
        if server_notice:
            emu.emit(sess, "Server Notice", msg, nick, stamp=stamp)
        elif ptr:
            emu.emit(sess, "Channel Notice", nick, to, msg, stamp=stamp)
        else:
            emu.emit(sess, "Notice", nick, msg, stamp=stamp)

    # ------------------------------------------------------------------
    def _mode(self, serv: Server, word: List[str], word_eol: List[str], nick: str,
              stamp: int, numeric_324: bool = False) -> None:
        """``handle_mode`` (modes.c): per-mode events, ops/voices grouped."""
        emu = self.emu
        offset = 3 if numeric_324 else 2
        chan = word[offset]
        modes = _colon(word[offset + 1])
        if not modes:
            return
        sess = emu.find_channel(serv, chan)
        using_front = sess is None
        if sess is None:
            sess = emu.sessions.get(serv.front_session) or emu.sessions[serv.server_session]
        raw = word_eol[offset].rstrip(" ") if word_eol[offset].endswith(" ") else word_eol[offset]
        raw_modes = bool(emu.prefs.get("irc_raw_modes"))
        if raw_modes:
            emu.emit(sess, "Raw Modes", nick, raw, stamp=stamp)
        args: List[str] = []
        for i in range(offset + 2, len(word)):
            if not word[i]:
                break
            args.append(word[i])
            if word[i].startswith(":"):
                break
        num_modes = sum(1 for c in modes[1:] if c not in "+-")
        all_have_args = len(args) == num_modes
        sign = modes[0]
        group: Dict[str, List[str]] = {"op": [], "deop": [], "voice": [], "devoice": []}

        def flush() -> None:
            for key, event in (("op", "Channel Operator"), ("deop", "Channel DeOp"),
                               ("voice", "Channel Voice"), ("devoice", "Channel DeVoice")):
                if group[key]:
                    emu.emit(sess, event, nick, " ".join(group[key]), stamp=stamp)
                    group[key] = []

        argi = 0
        for mode in modes[1:]:
            if mode in "+-":
                flush()
                sign = mode
                continue
            arg = ""
            if (all_have_args or _mode_has_arg(serv, sign, mode)) and argi < len(args):
                arg = _colon(args[argi])
                argi += 1
            quiet = raw_modes
            if using_front or not serv.is_channel(chan):
                if not quiet:
                    self._genmode(sess, nick, sign, mode, chan, arg, stamp)
                continue
            if mode in serv.nick_modes:
                user = sess.find_user(arg)
                if user:
                    idx = serv.nick_modes.index(mode)
                    pfx = serv.nick_prefixes[idx] if idx < len(serv.nick_prefixes) else ""
                    if sign == "+":
                        _grant(sess, user, pfx)
                    else:
                        _revoke(sess, user, pfx)
            elif _chanmode_type(serv, mode) >= 1:
                _record_mode(serv, sess, sign, mode, arg)
            if mode == "k":
                sess.channelkey = arg if sign == "+" else ""
            elif mode == "l":
                sess.limit = _atoi(arg) if sign == "+" else 0
            grouped = _GROUPED_MODES.get((sign, mode))
            event = _MODE_EVENTS.get((sign, mode))
            if mode == "q" and "q" not in serv.chanmodes.split(",")[0]:
                event = None  # +q is owner on this server
            if quiet and (grouped or event):
                continue
            if grouped:
                group[grouped].append(arg)
                continue
            if event:
                shown = () if sign == "-" and mode in "kl" else (arg,)  # removals show no argument
                emu.emit(sess, event, nick, *shown, stamp=stamp)
                continue
            if not quiet:
                self._genmode(sess, nick, sign, mode, chan, arg, stamp)
        flush()

    def _genmode(self, sess: Session, nick: str, sign: str, mode: str, chan: str, arg: str,
                 stamp: int) -> None:
        where = "%s %s" % (chan, arg) if arg else chan
        self.emu.emit(sess, "Channel Mode Generic", nick, sign, mode, where, stamp=stamp)

    # ------------------------------------------------------------------
    # scripted server helpers
    def connect(self, nick: Optional[str] = None, servername: Optional[str] = None,
                isupport: Optional[Dict[str, str]] = None, motd: Optional[List[str]] = None) -> None:
        """Connected event, the login lines HexChat sends, then 001-005 and a MOTD."""
        emu = self.emu
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
            self.handle_line(line)

    def join(self, channel: str, users: List[str], topic: Optional[str], host: str,
             modes: Optional[str]) -> int:
        """The server's answer to our JOIN: JOIN echo, topic, names list, and
        the 324 answer to HexChat's MODE query."""
        emu = self.emu
        serv = emu.serv
        me = serv.nick
        sname = serv.servername
        self.handle_line(":%s!%s JOIN %s" % (me, host, channel))
        if topic is not None:
            self.handle_line(":%s 332 %s %s :%s" % (sname, me, channel, topic))
            self.handle_line(":%s 333 %s %s op!op@localhost 1700000000" % (sname, me, channel))
        names = [me] + [u for u in users if serv.cmp(u.lstrip(serv.nick_prefixes), me) != 0]
        self.handle_line(":%s 353 %s = %s :%s" % (sname, me, channel, " ".join(names)))
        self.handle_line(":%s 366 %s %s :End of /NAMES list." % (sname, me, channel))
        if modes is not None:
            self.handle_line(":%s 324 %s %s %s" % (sname, me, channel, modes))
        sess = emu.find_channel(serv, channel)
        assert sess is not None
        return sess.id


# ---- helpers ------------------------------------------------------------

def _atoi(s: str) -> int:
    m = re.match(r"\s*([+-]?\d+)", s)
    return int(m.group(1)) if m else 0


def _ctime(when: int) -> str:
    """``ctime`` without the newline, in local time."""
    t = _time.localtime(when)
    return "%s %s %2d %02d:%02d:%02d %d" % (
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday],
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
         "Dec")[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)


def _mode_has_arg(serv: Server, sign: str, mode: str) -> bool:
    """``mode_has_arg``: nick modes and CHANMODES groups 0-1 always, group 2
    only when set."""
    if mode in serv.nick_modes:
        return True
    kind = _chanmode_type(serv, mode)
    return kind in (0, 1) or (kind == 2 and sign == "+")


def _grant(sess: Session, user, pfx: str) -> None:
    if not pfx:
        return
    held = getattr(user, "extra_prefixes", "") or ""
    if pfx not in held:
        held += pfx
    order = sess.server.nick_prefixes
    held = "".join(sorted(held, key=lambda c: order.index(c) if c in order else 99))
    user.extra_prefixes = held
    user.prefix = held[:1]
    sess.sort_users()


def _revoke(sess: Session, user, pfx: str) -> None:
    held = (getattr(user, "extra_prefixes", "") or "").replace(pfx, "")
    user.extra_prefixes = held
    user.prefix = held[:1]
    sess.sort_users()


def _speaker(sess: Session, nick: str) -> "tuple[str, bool]":
    """Who said it, as inbound_chanmsg/inbound_action look it up: the
    speaker's mode prefix ('@', '+' or '') and whether it is us; talking
    updates the user's ``lasttalk``."""
    user = sess.find_user(nick)
    if not user:
        return "", False
    user.lasttalk = int(_time.time())
    return user.prefix[:1], bool(user.me)


def _chanmode_type(serv: Server, mode: str) -> int:
    """``mode_chanmode_type``: the CHANMODES group (0 = list modes like b,
    1 = always an argument like k, 2 = argument when set like l, 3 = flags),
    -1 if the server did not list it."""
    for idx, group in enumerate(serv.chanmodes.split(",")):
        if mode in group:
            return idx
    return -1


def _record_mode(serv: Server, sess: Session, sign: str, mode: str, arg: str) -> None:
    """``record_chan_mode``, step by step: HexChat edits the mode string it
    got from 324 (``get_info('modes')``) in place rather than rebuilding it,
    so its quirks (no '+' if there was no 324, a lone '+' once every mode is
    gone) are what scripts see."""
    cur = sess.modes
    space = cur.find(" ")
    modes_length = space if space >= 0 else len(cur)
    mode_pos = cur.find(mode, 0, modes_length)
    arg_offset = arg_length = 0
    if mode_pos != -1 and _mode_has_arg(serv, "+", mode):
        argument_num = sum(1 for c in cur[:mode_pos + 1] if _mode_has_arg(serv, "+", c))
        pos, seen = modes_length, 0
        while seen < argument_num and pos < len(cur):
            if cur[pos] == " ":
                seen += 1
            if seen != argument_num:
                pos += 1
        arg_offset = pos
        if seen == argument_num:  # the argument's length, with its leading space
            arg_length = 1
            pos += 1
            while pos < len(cur) and cur[pos] != " ":
                arg_length += 1
                pos += 1
    if sign == "+":
        if mode_pos == -1:
            cur = cur[:modes_length] + mode + cur[modes_length:]
            if _mode_has_arg(serv, sign, mode):
                cur += " " + arg
        elif _mode_has_arg(serv, sign, mode):  # replace the argument, keep its space
            tail = cur[arg_offset + arg_length:] if arg_length else ""  # erase(-1): to the end
            cur = cur[:arg_offset + 1] + arg + tail
    elif mode_pos != -1:
        if _mode_has_arg(serv, "+", mode):
            cur = cur[:arg_offset] + cur[arg_offset + arg_length:]
        cur = cur[:mode_pos] + cur[mode_pos + 1:]
    sess.modes = cur


def _match_words(word: str, masks: str) -> bool:
    """``alert_match_word``: masks separated by commas and spaces, wildcards."""
    import fnmatch
    for mask in re.split(r"[ ,]", masks or ""):
        mask = mask.strip()
        if mask and fnmatch.fnmatchcase(word.lower(), mask.lower()):
            return True
    return False


def _match_text(text: str, masks: str) -> bool:
    """``alert_match_text``: does a word of ``text`` match one of the masks?"""
    if not masks:
        return False
    special = set("-[]\\`^{}_|0123456789")
    word = []
    for ch in text + " ":
        if ch in special or ch.isalpha():
            word.append(ch)
            continue
        if word and _match_words("".join(word), masks):
            return True
        word = []
    return False
