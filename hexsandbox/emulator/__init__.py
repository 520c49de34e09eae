"""A headless, in-memory model of HexChat 2.16 for tests and CI.

``Emulator`` implements :class:`hexsandbox.backend.Backend`, so the sandbox
client drives it exactly as it drives real HexChat. Tests add the outside
world: :meth:`Emulator.feed` (a line from the IRC server),
:meth:`Emulator.type` (what the user types), :meth:`Emulator.advance`
(virtual time) and :meth:`Emulator.run_until` (the main loop).

See docs/emulator.md for what a "printed line" is and what is modelled.
"""

from __future__ import annotations

from .core import Emulator
from .hooks import EAT_ALL, EAT_HEXCHAT, EAT_NONE, EAT_PLUGIN

__all__ = ["Emulator", "EAT_NONE", "EAT_HEXCHAT", "EAT_PLUGIN", "EAT_ALL"]
