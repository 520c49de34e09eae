"""Messages from people: PRIVMSG (channel, private, CTCP, ACTION) and
NOTICE, as inbound.c routes them to a tab (``inbound_chanmsg``,
``inbound_privmsg``, ``inbound_action``, ``inbound_notice``) with HexChat's
highlight rules (``alert_match_word``/``alert_match_text``)."""

from __future__ import annotations

import re
import time as _time
from typing import TYPE_CHECKING, List, Optional

from . import formatting
from .ignore import IG_CHAN, IG_CTCP, IG_PRIV
from .state import SESS_DIALOG, SESS_NOTICES, SESS_SNOTICES, Server, Session

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator




class Messages:
    """Routes people's messages to tabs for an :class:`Emulator`."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu

    def privmsg(self, sess: Session, serv: Server, word: List[str], word_eol: List[str],
                 nick: str, ip: str, stamp: int) -> None:
        to = word[2]
        if not to:
            return
        if to[0] not in serv.chantypes and to[0] in serv.nick_prefixes:
            to = to[1:]
        text = formatting.colon(word_eol[3])
        host = word[0]
        ignored = self.emu.ignores.check
        talk_bit = IG_CHAN if serv.is_channel(to) else IG_PRIV
        if text.startswith("\x01"):
            body = text[1:]
            if body.endswith("\x01"):
                body = body[:-1]
            if body[:6].upper() == "ACTION":
                if ignored(host, talk_bit):
                    return
                action = body[7:] if len(body) > 6 else ""
                self.action(sess, to, nick, ip, action, fromme=False, stamp=stamp)
                return
            if ignored(host, IG_CTCP):
                return
            self._ctcp(sess, serv, to, nick, ip, body, stamp)
            return
        if ignored(host, talk_bit):
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
            emu.send_raw("NOTICE %s :\x01VERSION HexChat %s [x86_64] / Linux\x01" % (nick, emu.VERSION))
        elif cmd == "PING":
            emu.send_raw("NOTICE %s :\x01%s\x01" % (nick, body))
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
        cur = emu.sessions.get(emu.front_context())
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

    def notice(self, serv: Server, to: str, nick: str, msg: str, ip: str, stamp: int) -> None:
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


def _speaker(sess: Session, nick: str) -> "tuple[str, bool]":
    """Who said it, as inbound_chanmsg/inbound_action look it up: the
    speaker's mode prefix ('@', '+' or '') and whether it is us; talking
    updates the user's ``lasttalk``."""
    user = sess.find_user(nick)
    if not user:
        return "", False
    user.lasttalk = int(_time.time())
    return user.prefix[:1], bool(user.me)




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
