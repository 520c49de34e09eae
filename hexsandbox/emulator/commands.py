"""Typed input and commands, as outbound.c handles them.

``handle_multiline`` -> ``handle_user_input`` (a leading command char makes a
command, '//' says the text) -> ``handle_say`` (the '' command hook, then
PRIVMSG + 'Your Message') or ``handle_command`` (command hooks, then the
built-in command; an unknown command goes to the server raw when connected,
else 'Unknown Command ...' is printed).

Raw lines land in ``Emulator.sent``. With ``server_echo`` on, a tiny fake
server answers what a real one would echo back (JOIN, PART, NICK, TOPIC,
MODE, KICK, AWAY), through :meth:`Emulator.feed` so scripts see it as server
traffic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, List, Optional

from . import formatting
from .hooks import COMMAND
from .state import SESS_CHANNEL, SESS_DIALOG, SESS_NOTICES, SESS_SERVER, SESS_SNOTICES, Session

if TYPE_CHECKING:  # pragma: no cover
    from . import Emulator

#: Built-ins whose words are split without quote handling (handle_quotes off).
_NO_QUOTES = {"join", "part", "msg", "say", "me", "notice", "query", "topic", "quote", "raw",
              "kick", "ctcp", "echo", "away", "nick", "mode", "ban", "close", "gui", "set",
              "back", "server", "newserver", "invite", "quit", "op", "deop", "voice", "devoice",
              "unban", "cycle"}


class Commands:
    """Typed text and ``/commands`` for an :class:`Emulator`."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self._level = 0
        self.builtins: Dict[str, Callable[[Session, List[str], List[str]], bool]] = {
            "say": self.cmd_say, "me": self.cmd_me, "msg": self.cmd_msg,
            "notice": self.cmd_notice, "query": self.cmd_query, "join": self.cmd_join,
            "part": self.cmd_part, "leave": self.cmd_part, "nick": self.cmd_nick,
            "topic": self.cmd_topic, "mode": self.cmd_mode, "kick": self.cmd_kick,
            "ban": self.cmd_ban, "away": self.cmd_away, "back": self.cmd_back,
            "quote": self.cmd_quote, "raw": self.cmd_quote, "ctcp": self.cmd_ctcp,
            "echo": self.cmd_echo, "close": self.cmd_close, "server": self.cmd_server,
            "newserver": self.cmd_server, "gui": self.cmd_gui, "set": self.cmd_set,
            "invite": self.cmd_invite, "quit": self.cmd_quit, "op": self.cmd_op,
            "deop": self.cmd_deop, "voice": self.cmd_voice, "devoice": self.cmd_devoice,
            "help": self.cmd_help,
        }

    # ------------------------------------------------------------------
    def send(self, line: str) -> None:
        self.emu.sent.append(line)

    def _echo(self, line: str) -> None:
        """The fake server answers (only with server_echo on)."""
        if self.emu.server_echo and self.emu.serv.connected:
            self.emu.inbound.handle_line(line)

    def _me(self) -> str:
        serv = self.emu.serv
        return ":%s!%s@localhost" % (serv.nick, self.emu.user)

    # ------------------------------------------------------------------
    def handle_multiline(self, sess: Session, text: str) -> None:
        pieces = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for piece in pieces:
            if sess.id not in self.emu.sessions:
                return
            self.handle_user_input(sess, piece)

    def handle_user_input(self, sess: Session, text: str) -> None:
        if not text:
            return
        cc = str(self.emu.prefs.get("input_command_char") or "/")[:1]
        if text[0] != cc:
            self.handle_say(sess, text)
        elif text[1:2] == cc:
            self.handle_say(sess, text[1:])
        else:
            self.handle_command(sess, text[1:], check_spch=True)

    def _run_command_hooks(self, sess: Session, name: str, word: List[str],
                           word_eol: List[str]) -> bool:
        return self.emu.run_word_hooks(sess, COMMAND, name, formatting.trim_words(word),
                                       formatting.trim_words(word_eol))

    def handle_say(self, sess: Session, text: str) -> None:
        emu = self.emu
        word, word_eol = formatting.split_words(text, True, False)
        if self._run_command_hooks(sess, "", word, word_eol):
            return
        if sess.id not in emu.sessions:
            return
        if not sess.channel or sess.type in (SESS_SERVER, SESS_NOTICES, SESS_SNOTICES):
            emu.print_text(sess, "No channel joined. Try /join #<channel>")
            return
        if not sess.server.connected:
            emu.print_text(sess, "Not connected. Try /server <host> [<port>]")
            return
        emu.inbound.chanmsg(sess.server, sess, sess.channel, sess.server.nick, text, fromme=True)
        self.send("PRIVMSG %s :%s" % (sess.channel, text))

    def handle_command(self, sess: Session, cmd: str, check_spch: bool = False) -> bool:
        emu = self.emu
        if self._level > 99:
            emu.print_text(sess, "Too many recursive usercommands, aborting.")
            return True
        self._level += 1
        try:
            word, word_eol = formatting.split_words(cmd, True, True)
            if word[0].lower() in _NO_QUOTES:
                word, word_eol = formatting.split_words(cmd, False, False)
            if self._run_command_hooks(sess, word[0], word, word_eol):
                return True
            if sess.id not in emu.sessions:
                return True
            name = word[0].lower()
            handler = self.builtins.get(name)
            # HexChat's word arrays are 1-based with an empty slot 32
            cw = [""] + word + ["", ""]
            ce = [""] + word_eol + ["", ""]
            if handler is not None:
                if not handler(sess, cw, ce):
                    emu.print_text(sess, "Usage: %s" % word[0].upper())
                return True
            if not sess.server.connected:
                emu.print_text(sess, "Unknown Command %s. Try /help" % word[0])
            else:
                self.send(cmd)
            return True
        finally:
            self._level -= 1

    # ------------------------------------------------------------------
    # built-ins; each gets HexChat-style 1-based word/word_eol
    def _need_server(self, sess: Session) -> bool:
        if not sess.server.connected:
            self.emu.print_text(sess, "Not connected. Try /server <host> [<port>]")
            return False
        return True

    def cmd_say(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        if not word_eol[2]:
            return False
        self.handle_say(sess, word_eol[2])
        return True

    def cmd_me(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        act = word_eol[2]
        if not act:
            return False
        if sess.type == SESS_SERVER:
            self.emu.print_text(sess, "No channel joined. Try /join #<channel>")
            return True
        if not self._need_server(sess):
            return True
        self.send("PRIVMSG %s :\x01ACTION %s\x01" % (sess.channel, act))
        self.emu.inbound.action(sess, sess.channel, sess.server.nick, "", act, fromme=True)
        return True

    def cmd_msg(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        nick, msg = word[2], word_eol[3]
        if not nick or not msg:
            return False
        if nick == ".":
            if sess.lastnick:
                nick = sess.lastnick
        else:
            sess.lastnick = nick
        if not self._need_server(sess):
            return True
        self.send("PRIVMSG %s :%s" % (nick, msg))
        serv = sess.server
        target = emu.find_dialog(serv, nick) or emu.find_channel(serv, nick)
        if target:
            emu.inbound.chanmsg(serv, None, target.channel, serv.nick, msg, fromme=True)
        else:
            shown = msg
            if nick.lower() == "nickserv":
                if msg.lower().startswith("identify "):
                    shown = "identify ****"
                elif msg.lower().startswith("ghost "):
                    shown = "ghost ****"
            emu.emit(sess, "Message Send", nick, shown)
        return True

    def cmd_notice(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        if not word[2] or not word_eol[3]:
            return False
        self.send("NOTICE %s :%s" % (word[2], word_eol[3]))
        self.emu.emit(sess, "Notice Send", word[2], word_eol[3])
        return True

    def cmd_query(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        nick, msg, focus = word[2], word_eol[3], True
        if word[2] == "-nofocus":
            nick, msg, focus = word[3], word_eol[4], False
        serv = sess.server
        if not nick or serv.is_channel(nick):
            return False
        target = emu.find_dialog(serv, nick)
        if not target:
            target = emu.inbound.open_dialog(serv, nick, focus=focus)
        elif focus:
            emu._front = target.id
            serv.front_session = target.id
        if msg:
            if not self._need_server(sess):
                return True
            self.send("PRIVMSG %s :%s" % (nick, msg))
            emu.inbound.chanmsg(serv, target, target.channel, serv.nick, msg, fromme=True)
        return True

    def cmd_join(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        chan = word[2]
        if not chan:
            return False
        serv = sess.server
        found = emu.find_channel(serv, chan)
        if found and not getattr(found, "parted", False):
            emu._front = found.id
            serv.front_session = found.id
            return True
        if not self._need_server(sess):
            return True
        key = word[3]
        self.send("JOIN %s %s" % (chan, key) if key else "JOIN %s" % chan)
        for name in chan.split(","):
            if name:
                self._echo("%s JOIN %s" % (self._me(), name))
                self._echo(":%s 353 %s = %s :%s" % (serv.servername, serv.nick, name, serv.nick))
                self._echo(":%s 366 %s %s :End of /NAMES list." % (serv.servername, serv.nick, name))
        return True

    def cmd_part(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        serv = sess.server
        chan = word[2] or sess.channel
        reason = word_eol[3]
        if not chan or not serv.is_channel(chan):
            return False
        if not self._need_server(sess):
            return True
        if not reason:
            reason = str(self.emu.prefs.get("irc_part_reason") or "")
        if reason:
            self.send("PART %s :%s" % (chan, reason))
            self._echo("%s PART %s :%s" % (self._me(), chan, reason))
        else:
            self.send("PART %s" % chan)
            self._echo("%s PART %s" % (self._me(), chan))
        return True

    def cmd_nick(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        nick = word[2]
        if not nick:
            return False
        serv = sess.server
        if serv.connected:
            self.send("NICK %s" % nick)
            self._echo("%s NICK :%s" % (self._me(), nick))
        else:
            self.emu.inbound._newnick(serv, serv.nick, nick, quiet=True, stamp=0)
        return True

    def cmd_topic(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        if not self._need_server(sess):
            return True
        serv = sess.server
        if word[2] and serv.is_channel(word[2]):
            chan, text = word[2], word_eol[3]
        else:
            chan, text = sess.channel, word_eol[2]
        if text:
            self.send("TOPIC %s :%s" % (chan, text))
            self._echo("%s TOPIC %s :%s" % (self._me(), chan, text))
        else:
            self.send("TOPIC %s" % chan)
        return True

    def cmd_mode(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        serv = sess.server
        if not self._need_server(sess):
            return True
        if sess.type not in (SESS_CHANNEL, SESS_DIALOG) or (
                word[2][:1] not in ("-", "+", "")
                and (serv.is_channel(word[2]) or serv.cmp(serv.nick, word[2]) == 0)):
            target, modes = word[2], word_eol[3]
        else:
            if not sess.channel:
                return False
            target, modes = sess.channel, word_eol[2]
        self.send("MODE %s %s" % (target, modes))
        if modes and serv.is_channel(target) and self.emu.find_channel(serv, target):
            self._echo("%s MODE %s %s" % (self._me(), target, modes))
        return True

    def cmd_kick(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        nick, reason = word[2], word_eol[3]
        if not nick:
            return False
        if not self._need_server(sess):
            return True
        if reason:
            self.send("KICK %s %s :%s" % (sess.channel, nick, reason))
            self._echo("%s KICK %s %s :%s" % (self._me(), sess.channel, nick, reason))
        else:
            self.send("KICK %s %s" % (sess.channel, nick))
            self._echo("%s KICK %s %s :%s" % (self._me(), sess.channel, nick, sess.server.nick))
        return True

    def _ban_mask(self, sess: Session, nick: str, bantype: Optional[int]) -> str:
        """HexChat's ban masks by irc_ban_type (default 1: *!*@host)."""
        if "!" in nick or "@" in nick or "*" in nick:
            return nick
        user = sess.find_user(nick)
        if not user or not user.host or "@" not in user.host:
            return nick + "!*@*"
        username, host = user.host.split("@", 1)
        if bantype is None:
            bantype = int(self.emu.prefs.get("irc_ban_type") or 0)
        username = username.lstrip("~")
        if bantype == 0:
            return "*!*@*.%s" % host.split(".", 1)[1] if "." in host else "*!*@%s" % host
        if bantype == 1:
            return "*!*@%s" % host
        if bantype == 2:
            return "*!*%s@*.%s" % (username, host.split(".", 1)[1]) if "." in host else "*!*%s@%s" % (username, host)
        return "*!*%s@%s" % (username, host)

    def cmd_ban(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        mask = word[2]
        if not mask:
            self.send("MODE %s +b" % sess.channel)
            return True
        if not self._need_server(sess):
            return True
        bantype = int(word[3]) if word[3].isdigit() else None
        mask = self._ban_mask(sess, mask, bantype)
        self.send("MODE %s +b %s" % (sess.channel, mask))
        self._echo("%s MODE %s +b %s" % (self._me(), sess.channel, mask))
        return True

    def _nickmode(self, sess: Session, word: List[str], sign: str, mode: str) -> bool:
        nicks = [w for w in word[2:] if w]
        if not nicks:
            return False
        if not self._need_server(sess):
            return True
        line = "MODE %s %s%s %s" % (sess.channel, sign, mode * len(nicks), " ".join(nicks))
        self.send(line)
        self._echo("%s %s" % (self._me(), line))
        return True

    def cmd_op(self, sess, word, word_eol):
        return self._nickmode(sess, word, "+", "o")

    def cmd_deop(self, sess, word, word_eol):
        return self._nickmode(sess, word, "-", "o")

    def cmd_voice(self, sess, word, word_eol):
        return self._nickmode(sess, word, "+", "v")

    def cmd_devoice(self, sess, word, word_eol):
        return self._nickmode(sess, word, "-", "v")

    def cmd_away(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        serv = sess.server
        reason = word_eol[2]
        if not reason:
            if serv.is_away:
                if serv.away_reason:
                    emu.print_text(sess, "Already marked away: %s" % serv.away_reason)
                return False
            reason = str(emu.prefs.get("away_reason"))
        self.send("AWAY :%s" % (reason or " "))
        serv.away_reason = reason
        self._echo(":%s 306 %s :You have been marked as being away" % (serv.servername, serv.nick))
        return True

    def cmd_back(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        serv = sess.server
        if serv.is_away:
            self.send("AWAY")
            self._echo(":%s 305 %s :You are no longer marked as being away" % (serv.servername, serv.nick))
        else:
            self.emu.print_text(sess, "Already marked back.")
        serv.away_reason = None
        return True

    def cmd_quote(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        if not word_eol[2]:
            return False
        self.send(word_eol[2])
        return True

    def cmd_ctcp(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        to, msg = word[2], word_eol[3]
        if not to or not msg:
            return False
        first, sp, rest = msg.partition(" ")
        msg = first.upper() + sp + rest
        self.send("PRIVMSG %s :\x01%s\x01" % (to, msg))
        self.emu.emit(sess, "CTCP Send", to, msg)
        return True

    def cmd_echo(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        self.emu.print_text(sess, word_eol[2])
        return True

    def cmd_close(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        if sess.type == SESS_CHANNEL and sess.channel and not getattr(sess, "parted", False) \
                and sess.server.connected:
            reason = str(emu.prefs.get("irc_part_reason") or "")
            self.send("PART %s :%s" % (sess.channel, reason) if reason else "PART %s" % sess.channel)
        emu.close_session(sess)
        return True

    def cmd_server(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        """No network: drop channel state and play the registration again."""
        emu = self.emu
        serv = sess.server
        if serv.connected:
            self.send("QUIT :%s" % emu.prefs.get("irc_quit_reason"))
            server_sess = emu.sessions[serv.server_session]
            emu.emit(server_sess, "Disconnected", "Connection closed")
        for other in emu.sessions.values():
            if other.server is serv and other.type == SESS_CHANNEL:
                other.users.clear()
        serv.connected = False
        serv.end_of_motd = False
        if word[2]:
            serv.hostname = word[2]
            serv.servername = word[2]
        emu.inbound.connect()
        return True

    def cmd_quit(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        serv = sess.server
        if serv.connected:
            self.send("QUIT :%s" % (word_eol[2] or emu.prefs.get("irc_quit_reason")))
            serv.connected = False
            serv.end_of_motd = False
            emu.emit(emu.sessions[serv.server_session], "Disconnected", "Connection closed")
        return True

    def cmd_invite(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        if not word[2]:
            return False
        chan = word[3] or sess.channel
        self.send("INVITE %s %s" % (word[2], chan))
        return True

    def cmd_gui(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        emu = self.emu
        sub = word[2].upper()
        if sub == "FOCUS":
            emu._front = sess.id
            sess.server.front_session = sess.id
            emu._run_print_hooks(sess, "Focus Tab", [], 0)
            return True
        if sub in ("SHOW", "HIDE", "ICONIFY", "FLASH", "COLOR", "APPLY", "ATTACH", "DETACH",
                   "MENU", "MSGBOX", "HIDEMENU", "SHOWMENU", "TRAY", "CHANVIEW"):
            return True
        return False

    def cmd_help(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        """Only ``/help <plugin command>`` is modelled (plugin_show_help: the
        first hook of that name, in dispatch order, prints its help text);
        anything else goes to the server as before (no built-in help texts)."""
        emu = self.emu
        name = word[2]
        if name:
            for hook in emu.hooks.hooks:
                if hook.kind == COMMAND and not hook.deleted and hook.name.lower() == name.lower():
                    if hook.help:
                        emu.print_text(sess, hook.help)
                        return True
                    break
        if not sess.server.connected:
            emu.print_text(sess, "Unknown Command %s. Try /help" % word[1])
        else:
            self.send(word_eol[1])
        return True

    def cmd_set(self, sess: Session, word: List[str], word_eol: List[str]) -> bool:
        """Read-only: ``/set name`` prints ``name = value`` like HexChat's list."""
        emu = self.emu
        name = word[2]
        if not name:
            for key in sorted(emu.prefs.values):
                emu.print_text(sess, "%s \x0312=\x0f %s" % (key, emu.prefs.get(key)))
            return True
        value = emu.prefs.get(name)
        if value is None:
            emu.print_text(sess, "No such variable.")
            return True
        emu.print_text(sess, "%s \x0312=\x0f %s" % (name.lower(), value))
        return True
