"""The config dir of a fresh HexChat 2.16.1, generated.

Found by starting Debian's HexChat once as the e2e user under Xvfb with the
harness (docs/emulator.md has the listing). After its first session it held:
``hexchat.conf`` (every variable, rewritten by ``save_config``),
``addon_checksum.conf`` (the checksum plugin: ``limit = 256``), empty
``chanopt.conf``, ``ignore.conf``, ``notify.conf`` and ``sound.conf`` (written
at exit), and ``addons/``. ``servlist.conf`` is written when the network list
is saved (a real user connects through it; the harness skips it): here it
holds the emulator's network as ``servlist_save`` writes one.

Files that already exist are kept (a test may seed them); hexchat.conf is
rewritten by ``/set`` as in HexChat.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Dict

from . import settings

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

EMPTY_AT_EXIT = ("chanopt.conf", "ignore.conf", "notify.conf", "sound.conf")


def servlist_text(emu: "Emulator") -> str:
    """``servlist_save`` for the one network, added as the network list adds
    one (``servlist_net_add``: flags cycle + use global user info + use
    proxy = 19, so no I/U/R lines of its own)."""
    serv = emu.serv
    return "v=%s\n\nN=%s\nF=19\nD=0\nS=%s\n\n" % (
        emu.VERSION, serv.network or serv.servername, serv.hostname)


def fresh_files(emu: "Emulator") -> Dict[str, str]:
    """File name -> content, as a fresh HexChat leaves them."""
    files = {name: "" for name in EMPTY_AT_EXIT}
    files["hexchat.conf"] = settings.config_text(emu)
    files["addon_checksum.conf"] = "limit = 256\n"
    files["servlist.conf"] = servlist_text(emu)
    return files


def write_fresh_config(emu: "Emulator") -> None:
    os.makedirs(os.path.join(emu.config_dir, "addons"), exist_ok=True)
    for name, text in fresh_files(emu).items():
        path = os.path.join(emu.config_dir, name)
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
