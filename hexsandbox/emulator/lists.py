"""``get_list``: HexChat's lists as rows of plain data, fields in HexChat's
order (hexchat-api.md section 2) with HexChat's types."""

from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from .state import SESS_CHANNEL, Session

if TYPE_CHECKING:  # pragma: no cover
    from . import Emulator

#: list name -> field names, in the order HexChat's list_fields reports them
FIELDS = {
    "channels": ["channel", "channelkey", "chanmodes", "chantypes", "context", "flags", "id",
                 "lag", "maxmodes", "network", "nickmodes", "nickprefixes", "queue", "server",
                 "type", "users"],
    "dcc": ["address32", "cps", "destfile", "file", "nick", "port", "pos", "poshigh", "resume",
            "resumehigh", "size", "sizehigh", "status", "type"],
    "ignore": ["flags", "mask"],
    "notify": ["flags", "networks", "nick", "off", "on", "seen"],
    "users": ["account", "away", "host", "lasttalk", "nick", "prefix", "realname", "selected"],
}

_CHANOPT_BITS = (("text_hidejoinpart", 6), ("alert_beep", 8), ("text_logging", 11),
                 ("text_scrollback", 13), ("text_strip", 15), ("alert_tray", 17),
                 ("alert_taskbar", 19), ("alert_balloon", 21))


def channel_flags(sess: Session) -> int:
    """The ``flags`` bit set of a channels row (plugin.c's channel_flags)."""
    serv = sess.server
    flags = 0
    if serv.connected:
        flags |= 1 << 0
    if serv.is_away:
        flags |= 1 << 2
    if serv.end_of_motd:
        flags |= 1 << 3
    if serv.have_idmsg:
        flags |= 1 << 5
    for opt, bit in _CHANOPT_BITS:
        value = sess.chanopts.get(opt, 2)
        if value:
            flags |= 1 << bit
        if value == 2:
            flags |= 1 << (bit + 1)
    return flags


def build_list(emu: "Emulator", name: str) -> Optional[List[dict]]:
    if name not in FIELDS:
        raise KeyError("list not available")
    if name == "channels":
        rows = []
        # session_new() prepends to sess_list: the newest tab comes first
        for sess in reversed(list(emu.sessions.values())):
            serv = sess.server
            rows.append({
                "channel": sess.channel,
                "channelkey": sess.channelkey,
                "chanmodes": serv.chanmodes,
                "chantypes": serv.chantypes,
                "context": sess.id,
                "flags": channel_flags(sess),
                "id": serv.id,
                "lag": serv.lag,
                "maxmodes": serv.modes_per_line,
                "network": serv.network or serv.servername,
                "nickmodes": serv.nick_modes,
                "nickprefixes": serv.nick_prefixes,
                "queue": 0,
                "server": serv.servername,
                "type": sess.type,
                "users": len(sess.users),
            })
        return rows
    if name == "users":
        current = emu.sessions.get(emu.get_context())
        if current is None:
            return None
        sess = current
        if sess.type != SESS_CHANNEL:
            return []
        return [{
            "account": u.account,
            "away": int(u.away),
            "host": u.host,
            "lasttalk": int(u.lasttalk),
            "nick": u.nick,
            "prefix": u.prefix,
            "realname": u.realname,
            "selected": int(u.selected),
        } for u in sorted(sess.users, key=lambda u: sess.server.lower(u.nick))]
        # list_get walks usertree_alpha: plain nick order, not the GUI's rank order
    if name == "ignore":  # ignore_list: newest first
        return [{"flags": ig.type, "mask": ig.mask} for ig in emu.ignores.entries]
    # dcc, notify: nothing in a fresh HexChat
    return []
