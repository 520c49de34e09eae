"""The hook list and its dispatch, modelled on plugin.c (``plugin_hook_run``).

One list holds every hook. A new hook goes before the first hook of its
family whose priority is <= its own (``plugin_insert_hook``), so the list is
highest priority first and -- note -- within one priority the *newest* hook
comes first. The family of a server hook is, as in HexChat 2.16,
SERVER | PRINT_ATTRS (a quirk kept on purpose). A hook removed during a
dispatch is only marked deleted (so it is skipped) and taken out of the list
when the outermost dispatch ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional

# HexChat's hook type bits (plugin.c)
COMMAND = 1 << 0
SERVER = 1 << 1
SERVER_ATTRS = 1 << 2
PRINT = 1 << 3
PRINT_ATTRS = 1 << 4
TIMER = 1 << 5

_FAMILY = {
    COMMAND: COMMAND,
    PRINT: PRINT | PRINT_ATTRS,
    PRINT_ATTRS: PRINT | PRINT_ATTRS,
    SERVER: SERVER | PRINT_ATTRS,
    SERVER_ATTRS: SERVER | PRINT_ATTRS,
    TIMER: TIMER,
}

EAT_NONE = 0
EAT_HEXCHAT = 1
EAT_PLUGIN = 2
EAT_ALL = 3


@dataclass(eq=False)
class Hook:
    """One registered hook; the object handed out to the client."""

    kind: int  # one of the type bits above
    name: str
    priority: int
    callback: Callable
    with_attrs: bool = False
    help: Optional[str] = None
    deleted: bool = False
    # timers only
    interval: int = 0
    due: int = 0
    seq: int = 0

    def __repr__(self) -> str:
        return "<Hook %s %r pri=%d%s>" % (
            {COMMAND: "command", PRINT: "print", PRINT_ATTRS: "print_attrs",
             SERVER: "server", SERVER_ATTRS: "server_attrs",
             TIMER: "timer"}[self.kind],
            self.name, self.priority, " deleted" if self.deleted else "")


class HookList:
    """All hooks, in HexChat's order, with dispatch."""

    def __init__(self) -> None:
        self.hooks: List[Hook] = []
        self._depth = 0

    def add(self, hook: Hook) -> Hook:
        family = _FAMILY[hook.kind]
        for i, other in enumerate(self.hooks):
            if (other.kind & family) and other.priority <= hook.priority:
                self.hooks.insert(i, hook)
                return hook
        self.hooks.append(hook)
        return hook

    def remove(self, hook: Hook) -> None:
        """Mark deleted; physically drop it now unless a dispatch is running."""
        if not isinstance(hook, Hook):
            return
        hook.deleted = True
        if self._depth == 0:
            self._sweep()

    def _sweep(self) -> None:
        self.hooks = [h for h in self.hooks if not h.deleted]

    def _matches(self, hook: Hook, kinds: int, name: str) -> bool:
        if hook.deleted or not (hook.kind & kinds):
            return False
        if hook.name.lower() == name.lower():
            return True
        return bool(kinds & SERVER) and hook.name.lower() == "raw line"

    def run(self, kinds: int, name: str,
            call: Callable[[Hook], int], before: Callable[[], None]) -> bool:
        """Run matching hooks; True if the event is eaten for HexChat.

        ``before`` is called before each callback (it sets the plugin context
        to the event's session). ``call`` runs one hook and returns its eat
        value. Like HexChat, the next hook is remembered before the callback
        runs, so a hook added right after the current one is not run now.
        """
        eat = False
        self._depth += 1
        try:
            idx = self._find(0, kinds, name)
            while idx is not None:
                hook = self.hooks[idx]
                nxt = self.hooks[idx + 1] if idx + 1 < len(self.hooks) else None
                before()
                ret = int(call(hook) or 0)
                if (ret & EAT_HEXCHAT) and (ret & EAT_PLUGIN):
                    eat = True
                    break
                if ret & EAT_PLUGIN:
                    break
                if ret & EAT_HEXCHAT:
                    eat = True
                if nxt is None:
                    break
                try:
                    start = self.hooks.index(nxt)
                except ValueError:  # pragma: no cover - swept by nesting
                    break
                idx = self._find(start, kinds, name)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._sweep()
        return eat

    def _find(self, start: int, kinds: int, name: str) -> Optional[int]:
        for i in range(start, len(self.hooks)):
            if self._matches(self.hooks[i], kinds, name):
                return i
        return None

    @property
    def dispatching(self) -> bool:
        """True while hooks run (server lines must wait until it is over)."""
        return self._depth > 0

    def command_hooks(self) -> List[Hook]:
        """Live command hooks in dispatch order (``/help``'s plugin list)."""
        return [h for h in self.hooks if h.kind == COMMAND and not h.deleted]

    def timers(self) -> List[Hook]:
        return [h for h in self.hooks if h.kind == TIMER and not h.deleted]
