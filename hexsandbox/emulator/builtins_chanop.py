"""Channel operator built-ins: MODE, KICK, BAN, KICKBAN, QUIET and the
op/voice families, with HexChat's ban masks (outbound.c ``create_mask``) and
mode batching (modes.c ``send_channel_modes``)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Dict, List, Optional

from . import formatting

from .state import SESS_CHANNEL, SESS_DIALOG, Session

if TYPE_CHECKING:  # pragma: no cover
    from .commands import Commands, Handler

QUIET_UNSUPPORTED = "Quiet is not supported by this server."


def send_channel_modes(c: "Commands", sess: Session, args: List[str], sign: str,
                       mode: str) -> None:
    """``send_channel_modes``: MODES-per-line batches (``MODE #c +ooo a b c``)."""
    per_line = sess.server.modes_per_line if sess.server.modes_per_line > 0 else 3
    for i in range(0, len(args), per_line):
        batch = args[i:i + per_line]
        c.send("MODE %s %s%s %s" % (sess.channel, sign, mode * len(batch), " ".join(batch)))


def create_mask(c: "Commands", sess: Session, mask: str, mode: str, typestr: str,
                deop: bool) -> str:
    """``create_mask``: a known nick's host becomes a mask of ``irc_ban_type``
    (or ``typestr``); the result keeps HexChat's ``"%s %s %s"`` spacing, so a
    ban without deop has two spaces (``+b  *!*@host``)."""
    user = sess.find_user(mask)
    if user is None or not user.host or "@" not in user.host:
        return "%s %s" % (mode, mask)
    p2 = user.nick if deop else ""
    ident, fullhost = user.host.split("@", 1)
    if ident[:1] in "~+=^-" and ident:
        username = "*" + ident[1:]
    elif len(ident) < 10:  # USERNAMELEN
        username = "*" + ident
    else:
        username = ident
    dot = fullhost.find(".")
    domain = fullhost[dot:] if dot >= 0 else fullhost
    bantype = formatting.atoi(typestr) if typestr else int(c.emu.prefs.get("irc_ban_type") or 0)
    try:
        ipaddress.IPv4Address(fullhost)
        is_ip = True
    except ValueError:
        is_ip = False
    if is_ip:
        domain = fullhost[:fullhost.rfind(".")]
        forms = {0: "*!*@%s.*" % domain, 1: "*!*@%s" % fullhost,
                 2: "*!%s@%s.*" % (username, domain), 3: "*!%s@%s" % (username, fullhost)}
    else:
        forms = {0: "*!*@*%s" % domain, 1: "*!*@%s" % fullhost,
                 2: "*!%s@*%s" % (username, domain), 3: "*!%s@%s" % (username, fullhost)}
    return "%s %s %s" % (mode, p2, forms.get(bantype, ""))




def ban(c: "Commands", sess: Session, mask: str, bantype: str, deop: bool) -> None:
    c.send("MODE %s %s" % (sess.channel, create_mask(c, sess, mask, "-o+b" if deop else "+b",
                                                     bantype, deop)))


def cmd_mode(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    serv = sess.server
    if sess.type not in (SESS_CHANNEL, SESS_DIALOG) or (
            word[2][:1] not in ("-", "+", "")
            and (serv.is_channel(word[2]) or serv.cmp(serv.nick, word[2]) == 0)):
        c.send("MODE %s %s" % (word[2], word_eol[3]))
        return True
    if not sess.channel:
        return False
    c.send("MODE %s %s" % (sess.channel, word_eol[2]))
    return True


def cmd_kick(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not word[2]:
        return False
    _kick(c, sess, word[2], word_eol[3])
    return True


def _kick(c: "Commands", sess: Session, nick: str, reason: str) -> None:
    """``irc_kick``: the trailing only with a reason."""
    if reason:
        c.send("KICK %s %s :%s" % (sess.channel, nick, reason))
    else:
        c.send("KICK %s %s" % (sess.channel, nick))


def cmd_kickban(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    nick, reason = word[2], word_eol[3]
    if not nick:
        return False
    user = sess.find_user(nick)
    is_op = bool(user and user.prefix == "@")
    if reason[:1].isdigit() and len(reason) == 1:  # a 1-digit reason is a ban type
        ban(c, sess, nick, reason, is_op)
        reason = ""
    else:
        ban(c, sess, nick, "", is_op)
    _kick(c, sess, nick, reason)
    return True


def cmd_ban(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if word[2]:
        ban(c, sess, word[2], word[3], False)
    else:
        c.send("MODE %s +b" % sess.channel)  # the ban list
    return True


def _masks(word: List[str]) -> Optional[List[str]]:
    args = []
    for w in word[2:]:
        if not w:
            break
        args.append(w)
    return args or None


def cmd_unban(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    masks = _masks(word)
    if masks is None:
        return False
    send_channel_modes(c, sess, masks, "-", "b")
    return True


def _quiet_supported(c: "Commands", sess: Session) -> bool:
    if "q" not in sess.server.chanmodes:
        c.print(sess, QUIET_UNSUPPORTED)
        return False
    return True


def cmd_quiet(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not _quiet_supported(c, sess):
        return True
    if word[2]:
        c.send("MODE %s %s" % (sess.channel, create_mask(c, sess, word[2], "+q", word[3], False)))
    else:
        c.send("MODE %s +q" % sess.channel)  # the quiet list
    return True


def cmd_unquiet(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    if not _quiet_supported(c, sess):
        return True
    masks = _masks(word)
    if masks is None:
        return False
    send_channel_modes(c, sess, masks, "-", "q")
    return True


def _nick_modes(sign: str, mode: str) -> "Handler":
    def handler(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
        nicks = _masks(word)
        if nicks is None:
            return False
        send_channel_modes(c, sess, nicks, sign, mode)
        return True
    return handler


def _mass(sign: str, mode: str, pick: str) -> "Handler":
    """MOP/MDEOP/MHOP/MDEHOP: every user but us with(out) the prefix."""
    def handler(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
        nicks = [u.nick for u in sess.users if not u.me
                 and ((pick in u.prefix) == (sign == "-"))]
        send_channel_modes(c, sess, nicks, sign, mode)
        return True
    return handler


def cmd_mkick(c: "Commands", sess: Session, word: List[str], word_eol: List[str]) -> bool:
    """Ops first, then everyone else; never us."""
    users = [u for u in sess.users if not u.me]
    for user in [u for u in users if u.prefix == "@"] + [u for u in users if u.prefix != "@"]:
        _kick(c, sess, user.nick, word_eol[2])
    return True


HANDLERS: Dict[str, "Handler"] = {
    name[4:]: fn for name, fn in globals().items() if name.startswith("cmd_") and callable(fn)
}
HANDLERS.update({
    "op": _nick_modes("+", "o"), "deop": _nick_modes("-", "o"),
    "voice": _nick_modes("+", "v"), "devoice": _nick_modes("-", "v"),
    "hop": _nick_modes("+", "h"), "dehop": _nick_modes("-", "h"),
    "mop": _mass("+", "o", "@"), "mdeop": _mass("-", "o", "@"),
    "mhop": _mass("+", "h", "%"), "mdehop": _mass("-", "h", "%"),
})
