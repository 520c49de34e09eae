"""``get_info`` and ``get_prefs`` (plugin.c ``hexchat_get_info`` /
``hexchat_get_prefs``): the special names first, then the current tab's
server and channel, then the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

from .textevents import EVENTS

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator


def get_info(emu: "Emulator", name: str) -> Optional[str]:
    if name.startswith("event_text"):
        ev = name[10:]
        if ev.startswith(" "):
            ev = ev[1:]
        for key, (fmt, _n) in EVENTS.items():
            if key.lower() == ev.lower():
                return fmt
        return None
    if name == "version":
        return emu.VERSION
    if name in ("xchatdir", "xchatdirfs", "configdir"):
        return emu.config_dir
    if name == "libdirfs":
        return "/usr/lib/x86_64-linux-gnu/hexchat/plugins"
    sess = emu.sessions.get(emu.get_context())
    if sess is None:
        return None
    serv = sess.server
    if name == "away":
        return serv.away_reason if serv.is_away else None
    if name == "channel":
        return sess.channel
    if name == "charset":
        return "UTF-8"
    if name == "host":
        return serv.hostname
    if name == "inputbox":
        return emu.inputbox.get(sess.id, "")
    if name == "modes":
        return sess.modes
    if name == "network":
        return serv.network
    if name == "nick":
        return serv.nick
    if name in ("password", "nickserv"):
        return serv.password
    if name == "server":
        return serv.servername if serv.connected else None
    if name == "topic":
        return sess.topic  # NULL (None) until the server told us a topic
    if name in ("gtkwin_ptr", "win_ptr"):
        return "0x%x" % (0x55d0c0de0000 + (0 if name == "win_ptr" else 0x100))
    if name == "win_status":
        return "active"
    return None

def get_prefs(emu: "Emulator", name: str) -> Union[str, int, None]:
    if name == "state_cursor":  # fe_get_inputbox_cursor
        return emu.cursor.get(emu.get_context(), 0)
    if name == "id":  # the server's id: 0 for the first (plugin.c, server.c)
        sess = emu.sessions.get(emu.get_context())
        return sess.server.id if sess else emu.serv.id
    return emu.prefs.get(name)
