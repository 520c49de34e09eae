"""When a crashed script is started again: VS Code's extension-host policy.

Only a crash after a good load restarts anything (a script that fails while
loading would fail again; unload, reload and quit are not crashes). A
crashed script restarts after 1, 2, then 4 s; a 4th crash within 5 minutes
leaves it stopped, and the line says how to start it again. Crashes older
than the window are forgotten, so a script that crashes once a day always
comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple


@dataclass
class RestartPolicy:
    """Restart a crashed script after a doubling delay, at most
    ``max_restarts`` times within ``window_s`` seconds."""

    max_restarts: int = 3
    window_s: float = 300.0
    first_delay_ms: int = 1000


def next_restart(policy: Optional[RestartPolicy], crash_times: List[float],
                 now: float) -> Tuple[List[float], Optional[Tuple[int, int]]]:
    """Record a crash at ``now``. Returns the crash times still in the window
    and ``(delay_ms, attempt)`` if the script restarts (attempt counts from
    1 up to ``max_restarts``), else None."""
    if policy is None:
        return crash_times + [now], None
    recent = [t for t in crash_times if now - t < policy.window_s] + [now]
    attempt = len(recent)
    if attempt > policy.max_restarts:
        return recent, None
    return recent, (policy.first_delay_ms * 2 ** (attempt - 1), attempt)


def window_text(policy: RestartPolicy) -> str:
    """'5 minutes' or '60 s'."""
    if policy.window_s >= 120 and policy.window_s % 60 == 0:
        return f"{policy.window_s / 60:.0f} minutes"
    return f"{policy.window_s:.0f} s"
