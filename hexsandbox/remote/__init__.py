"""External applications over an authenticated local API (docs/remote.md).

Inside HexChat, :mod:`.service` opens the endpoint (:mod:`.endpoint`) when
hexsandbox.ini enables it, checks peers (:mod:`.peercred`) and the
allow-list (:mod:`.allowlist`). Outside, :func:`connect` gives an
application the ``hexchat`` API (:mod:`.client`); :mod:`.verbs` are the
command-line verbs (``send``, ``events``, ``info``, ``run-remote``,
``emulate --listen``).

``connect`` and the rest are loaded on first use, so that importing this
package (the ``hexsandbox`` command line does) needs no msgpack.
"""

from typing import Any

__all__ = ["RemoteApp", "RemoteError", "connect", "run_script"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
