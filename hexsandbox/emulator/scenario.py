"""Backend-neutral scenarios and transcripts.

A scenario is a JSON-compatible list of steps, each a one-key dict (plus an
optional "context"):

* ``{"connect": {...}}``          -- registration (kwargs of ``Emulator.connect``)
* ``{"server": "<raw line>"}``    -- a line from the IRC server
* ``{"input": "<text>", "context": "#chan"}`` -- typed into a tab (default front)
* ``{"command": "<text>", "context": "#chan"}`` -- ``hexchat.command`` in a tab
* ``{"advance": ms}``             -- virtual time
* ``{"focus": "#chan"}``          -- bring a tab to the front

A :class:`Transcript` is what came out: printed lines per tab name (colours
stripped), raw lines sent, and the pluginprefs file. Its :meth:`normalised`
form is stable plain data, so the same scenario can be replayed against real
HexChat and compared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List

Step = Dict[str, Any]


def run_scenario(emu: Any, steps: List[Step]) -> "Transcript":
    """Play ``steps`` on ``emu`` (any object with the Emulator's driving API)."""
    for step in steps:
        ctx = step.get("context")
        if "connect" in step:
            emu.connect(**(step["connect"] or {}))
        elif "server" in step:
            emu.feed(step["server"])
        elif "input" in step:
            emu.type(step["input"], ctx)
        elif "command" in step:
            if ctx is not None:
                handle = emu.context_of(ctx)
                emu.set_context(handle)
            emu.command(step["command"])
        elif "advance" in step:
            emu.advance(int(step["advance"]))
        elif "focus" in step:
            emu.focus(step["focus"])
        else:
            raise ValueError("unknown scenario step: %r" % (step,))
        if hasattr(emu, "pump"):
            emu.pump()
    return Transcript.capture(emu)


@dataclass
class Transcript:
    """What a scenario produced, as plain data."""

    lines: Dict[str, List[str]] = field(default_factory=dict)
    sent: List[str] = field(default_factory=list)
    pluginprefs: str = ""

    @classmethod
    def capture(cls, emu: Any) -> "Transcript":
        return cls(lines=emu.all_lines(strip=True), sent=list(emu.sent),
                   pluginprefs=emu.pluginprefs.contents())

    def normalised(self) -> Dict[str, Any]:
        """Stable form: tab names lower-cased and sorted, trailing spaces cut,
        pluginprefs lines sorted (HexChat appends, order is not the point)."""
        return {
            "lines": {k.lower(): [l.rstrip() for l in v] for k, v in sorted(self.lines.items(),
                                                                          key=lambda kv: kv[0].lower())},
            "sent": list(self.sent),
            "pluginprefs": sorted(l for l in self.pluginprefs.splitlines() if l.strip()),
        }

    def to_json(self) -> str:
        return json.dumps(self.normalised(), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "Transcript":
        data = json.loads(text)
        return cls(lines=data["lines"], sent=data["sent"],
                   pluginprefs="\n".join(data["pluginprefs"]))
