"""The virtual clock: timers fire when the test advances time, never by sleeping."""

from __future__ import annotations

import itertools
from typing import Callable, Optional

from .hooks import Hook, HookList, TIMER


class VirtualClock:
    """Milliseconds since the emulator started; timers live in the hook list
    (as in HexChat, so ``unhook`` works the same for every kind)."""

    def __init__(self, hooks: HookList) -> None:
        self.now = 0
        self._hooks = hooks
        self._seq = itertools.count()

    def add_timer(self, timeout_ms: int, callback: Callable[[], object]) -> Hook:
        interval = max(int(timeout_ms), 0)
        hook = Hook(kind=TIMER, name="", priority=0, callback=callback,
                    interval=interval, due=self.now + interval, seq=next(self._seq))
        return self._hooks.add(hook)

    def _next_due(self, limit: int) -> Optional[Hook]:
        best = None
        for hook in self._hooks.timers():
            if hook.due <= limit and (best is None or (hook.due, hook.seq) < (best.due, best.seq)):
                best = hook
        return best

    def advance(self, ms: int, fire: Callable[[Hook], bool]) -> int:
        """Move time forward by ``ms``, firing due timers in time order.

        ``fire`` runs one timer and returns whether to keep it. A kept timer is
        due again one interval after the time it fired. Returns how many fired.
        """
        target = self.now + max(int(ms), 0)
        fired = 0
        while True:
            hook = self._next_due(target)
            if hook is None:
                break
            self.now = max(self.now, hook.due)
            fired += 1
            keep = fire(hook)
            if hook.deleted:
                continue
            if keep:
                # a zero interval must not spin forever inside one advance
                hook.due = self.now + max(hook.interval, 1)
                hook.seq = next(self._seq)
            else:
                self._hooks.remove(hook)
        self.now = target
        return fired
