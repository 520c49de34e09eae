"""What HexChat keeps about a connection: the server, its tabs (sessions) and
the users of each channel."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Dict, List, Optional

SESS_SERVER = 1
SESS_CHANNEL = 2
SESS_DIALOG = 3
SESS_NOTICES = 4
SESS_SNOTICES = 5

_RFC_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz{}|~^", "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\^^")
_RFC_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def rfc_lower(s: str) -> str:
    """RFC 1459 casemapping: []\\~ are the upper case of {}|^."""
    return s.translate(_RFC_LOWER)


def ascii_lower(s: str) -> str:
    return s.translate(_ASCII_LOWER)


def nickcmp(a: str, b: str, casemapping: str = "rfc1459") -> int:
    """Compare like ``rfc_casecmp``: <0, 0, >0 on the first differing byte."""
    low = ascii_lower if casemapping == "ascii" else rfc_lower
    x = low(a).encode("utf-8", "surrogateescape")
    y = low(b).encode("utf-8", "surrogateescape")
    for c1, c2 in zip(x, y):
        if c1 != c2:
            return c1 - c2
    if len(x) == len(y):
        return 0
    return (x[len(y)] if len(x) > len(y) else 0) - (y[len(x)] if len(y) > len(x) else 0)


@dataclass
class User:
    """One entry of a channel's user list (``get_list('users')``)."""

    nick: str
    host: str = ""
    prefix: str = ""
    away: int = 0
    account: str = ""
    realname: str = ""
    lasttalk: int = 0
    selected: int = 0
    me: bool = False


@dataclass
class Server:
    """One connection (HexChat's ``struct server``)."""

    id: int
    nick: str
    servername: str
    hostname: str
    network: str
    connected: bool = False
    end_of_motd: bool = False
    is_away: bool = False
    away_reason: Optional[str] = None
    chantypes: str = "#&!+"
    nick_prefixes: str = "@+"
    nick_modes: str = "ov"
    chanmodes: str = "beI,k,l"
    casemapping: str = "rfc1459"
    modes_per_line: int = 3
    lag: int = 0
    password: Optional[str] = None
    have_idmsg: bool = False
    have_accnotify: bool = False
    have_server_time: bool = True
    have_account_tag: bool = False
    server_session: int = 0
    front_session: int = 0
    usermodes: str = ""

    def cmp(self, a: str, b: str) -> int:
        return nickcmp(a, b, self.casemapping)

    def lower(self, s: str) -> str:
        return ascii_lower(s) if self.casemapping == "ascii" else rfc_lower(s)

    def is_channel(self, name: str) -> bool:
        return bool(name) and name[0] in self.chantypes


@dataclass
class Session:
    """One tab (HexChat's ``struct session``)."""

    id: int
    server: Server
    type: int
    channel: str = ""
    topic: Optional[str] = None
    modes: str = ""
    channelkey: str = ""
    limit: int = 0
    users: List[User] = field(default_factory=list)
    lines: List[str] = field(default_factory=list)
    waitchannel: str = ""
    end_of_names: bool = False
    ignore_names: bool = False
    ignore_mode: bool = False     # our JOIN's automatic MODE reply is not shown
    doing_who: bool = False       # our JOIN's automatic WHO reply is not shown
    lastnick: str = ""
    # chanopts, SET_DEFAULT = 2 (what get_list('channels')['flags'] reports)
    chanopts: Dict[str, int] = field(default_factory=lambda: {
        "text_hidejoinpart": 2, "alert_beep": 2, "text_logging": 2,
        "text_scrollback": 2, "text_strip": 2, "alert_tray": 2,
        "alert_taskbar": 2, "alert_balloon": 2})

    @property
    def tab_name(self) -> str:
        """What the tab shows: the channel, or the one it left (``waitchannel``)."""
        return self.channel or self.waitchannel

    # -- users
    def find_user(self, nick: str) -> Optional[User]:
        for user in self.users:
            if self.server.cmp(user.nick, nick) == 0:
                return user
        return None

    def _rank(self, user: User) -> int:
        if user.prefix and user.prefix[0] in self.server.nick_prefixes:
            return self.server.nick_prefixes.index(user.prefix[0])
        return len(self.server.nick_prefixes)

    def sort_users(self) -> None:
        """HexChat's default user list order: by rank (ops first), then nick."""
        self.users.sort(key=lambda u: (self._rank(u), self.server.lower(u.nick)))

    def add_user(self, nick: str, host: str = "", account: str = "",
                 realname: str = "") -> User:
        prefix = ""
        while nick and nick[0] in self.server.nick_prefixes:
            prefix += nick[0]
            nick = nick[1:]
        existing = self.find_user(nick)
        if existing:
            if host:
                existing.host = host
            return existing
        user = User(nick=nick, host=host or "", prefix=prefix[:1], account=account or "",
                    realname=realname or "")
        user.extra_prefixes = prefix  # type: ignore[attr-defined]
        user.me = self.server.cmp(nick, self.server.nick) == 0
        self.users.append(user)
        self.sort_users()
        return user

    def remove_user(self, nick: str) -> bool:
        user = self.find_user(nick)
        if user:
            self.users.remove(user)
            return True
        return False


class IdSource:
    """Context handles: ints that are never reused."""

    def __init__(self, start: int = 1) -> None:
        self._it = itertools.count(start)

    def next(self) -> int:
        return next(self._it)
