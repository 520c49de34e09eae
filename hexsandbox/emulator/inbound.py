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
from typing import TYPE_CHECKING, List

from . import formatting, modes
from .hooks import SERVER, SERVER_ATTRS
from .ignore import IG_INVI, IG_NOTI
from .state import (SESS_CHANNEL, SESS_DIALOG, SESS_SERVER,
                    Server, Session)

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z?$")


def parse_server_time(value: str) -> int:
    """An IRCv3 ``time`` tag as int UTC seconds (0 if unparsable)."""
    m = _TIME_RE.match(value)
    if not m:
        return 0
    y, mo, d, h, mi, s = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))





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
            text = formatting.colon(word_eol[3])
            self._numeric(sess, formatting.atoi(word[1]), word, word_eol, text, stamp)
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
            emu.emit(sess, "Server Notice", formatting.colon(word_eol[2]), serv.servername, stamp=stamp)
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
                     word[3], formatting.colon(word_eol[4]), stamp=stamp)
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
            topic = formatting.colon(word_eol[4])
            chan = emu.find_channel(serv, chan_name)
            if chan:
                chan.topic = topic
            emu.emit(chan or server_sess, "Topic", chan_name, topic, stamp=stamp)
            return
        elif n == 333:
            chan = emu.find_channel(serv, word[3])
            when = formatting.atoi(formatting.colon(word[5]))
            tim = _ctime(when)  # ctime(), newline dropped, as HexChat
            emu.emit(chan or server_sess, "Topic Creation", word[3], word[4], tim, stamp=stamp)
            return
        elif n == 353:
            self._nameslist(serv, word[4], formatting.colon(word_eol[5]), stamp)
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
            self.newnick(serv, serv.nick, nick, quiet=True, stamp=0)
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
            modes.grant(sess, user, p)
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
            chan = formatting.colon(word[2])
            account = word[3] or None
            if account == "*":
                account = None
            realname = formatting.colon(word_eol[4]) if word_eol[4] else ""
            if serv.cmp(nick, serv.nick) == 0:
                self._ujoin(serv, chan, nick, ip, stamp)
            else:
                target = emu.find_channel(serv, chan)
                if target:
                    emu.emit(target, "Join", nick, chan, ip, account, stamp=stamp)
                    target.add_user(nick, ip, account or "", realname)
        elif up == "PART":
            chan = formatting.colon(word[2])
            reason = formatting.colon(word_eol[3])
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
            reason = formatting.colon(word_eol[4])
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
            reason = formatting.colon(word_eol[2])
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
            self.newnick(serv, nick, formatting.colon(word_eol[2]), quiet=False, stamp=stamp)
        elif up == "MODE":
            modes.handle_mode(emu, serv, word, word_eol, nick, stamp)
        elif up == "TOPIC":
            target = emu.find_channel(serv, word[2])
            if target:
                topic = formatting.colon(word_eol[3])
                emu.emit(target, "Topic Change", nick, topic, word[2], stamp=stamp)
                target.topic = topic
        elif up == "INVITE":
            if emu.ignores.check(prefix, IG_INVI):
                return
            text = formatting.colon(word_eol[3])
            if serv.cmp(word[2], serv.nick) != 0:
                emu.emit(sess, "Invited Other", text, nick, word[2], serv.servername, stamp=stamp)
            else:
                emu.emit(sess, "Invited", text, nick, serv.servername, stamp=stamp)
        elif up == "NOTICE":
            if emu.ignores.check(prefix, IG_NOTI):
                return
            emu.messages.notice(serv, word[2], nick, formatting.colon(word_eol[3]), ip, stamp)
        elif up == "PRIVMSG":
            emu.messages.privmsg(sess, serv, word, word_eol, nick, ip, stamp)
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
            emu.emit(sess, "Killed", nick, formatting.colon(word_eol[3]), stamp=stamp)
        elif up == "WALLOPS":
            emu.emit(sess, "Receive Wallops", nick, formatting.colon(word_eol[2]), stamp=stamp)
        elif up == "ACCOUNT":
            account = formatting.colon(word[2])
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
        emu.send_raw("MODE %s" % chan)
        emu.emit(sess, "You Join", nick, chan, ip, stamp=stamp)
        if emu.prefs.get("irc_who_join"):
            emu.send_raw("WHO %s" % chan)
            sess.doing_who = True

    def _clear_channel(self, sess: Session) -> None:
        """``clear_channel``: the tab stays (its label is the old name, kept in
        ``waitchannel`` for a rejoin), its channel is empty: get_info('channel')
        is '' and find_context no longer finds it, as in HexChat."""
        if sess.channel:
            sess.waitchannel = sess.channel
        sess.channel = ""
        sess.doing_who = False
        sess.users.clear()
        sess.topic = None
        sess.modes = ""

    def newnick(self, serv: Server, nick: str, newnick: str, quiet: bool, stamp: int) -> None:
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

# ---- helpers ------------------------------------------------------------



def _ctime(when: int) -> str:
    """``ctime`` without the newline, in local time."""
    t = _time.localtime(when)
    return "%s %s %2d %02d:%02d:%02d %d" % (
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday],
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
         "Dec")[t.tm_mon - 1], t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_year)


