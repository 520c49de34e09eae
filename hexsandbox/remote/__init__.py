"""External applications over an authenticated local API (docs/remote.md).

Inside HexChat, :mod:`.service` opens the endpoint (:mod:`.endpoint`) when
hexsandbox.ini enables it, checks peers (:mod:`.peercred`) and the
allow-list (:mod:`.allowlist`). Outside, :func:`connect` gives an
application the ``hexchat`` API (:mod:`.client`); :mod:`.verbs` are the
command-line verbs (``send``, ``events``, ``info``, ``run-remote``,
``emulate --listen``).
"""

from .client import RemoteApp, RemoteError, connect, run_script

__all__ = ["RemoteApp", "RemoteError", "connect", "run_script"]
