"""Reading what an emulator printed: lines per tab and the text events seen
(a mixin of :class:`~hexsandbox.emulator.core.Emulator`, kept apart so the
model's module stays about its state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Union

from . import formatting

if TYPE_CHECKING:  # pragma: no cover
    from .state import Session

ContextRef = Union[int, str, None]


class PrintedLines:
    """Needs ``session(ref)``, ``sessions``, ``events`` and ``get_context()``."""

    sessions: Dict[int, "Session"]
    events: List[tuple]

    def session(self, ref: ContextRef = None) -> "Session":  # pragma: no cover - overridden
        raise NotImplementedError

    def get_context(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def lines(self, ref: ContextRef = None, strip: bool = True) -> List[str]:
        """Printed lines of a tab (``left\\ttext``), colours stripped by default."""
        sess = self.session(ref if ref is not None else self.get_context())
        if not strip:
            return list(sess.lines)
        return [formatting.strip(line, -1, formatting.STRIP_ALL) for line in sess.lines]

    def all_lines(self, strip: bool = True) -> Dict[str, List[str]]:
        """Printed lines of every open tab, keyed by tab name."""
        out: Dict[str, List[str]] = {}
        for sess in self.sessions.values():
            key = sess.tab_name or "<none>"
            lines = [formatting.strip(line, -1, formatting.STRIP_ALL) if strip else line for line in sess.lines]
            out.setdefault(key, []).extend(lines)
        return out

    def context_of(self, name: str) -> int:
        """The handle of the tab named ``name``."""
        return self.session(name).id

    def event_names(self, ref: ContextRef = None) -> List[str]:
        """Names of the (not eaten) text events processed, optionally in one tab."""
        if ref is None:
            return [e[1] for e in self.events]
        sid = self.session(ref).id
        return [e[1] for e in self.events if e[0] == sid]
