"""How a worker ended, said in one true line (issue 9 item 5).

Only a crash is called a crash. What the user asked for (unload, reload,
quit) is never one, whatever the exit status: a script whose unload hook
calls ``sys.exit(1)`` was still unloaded. A worker that dies before its
script has loaded "could not load" (or "could not start"): that is reported
once and never retried, since it would fail the same way again. Details (the
worker's stderr) go to ``/sandbox log NAME``.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from typing import List, Optional

from . import limits

#: Why a worker is ending, when the user (or HexChat) asked for it.
UNLOAD, RELOAD, QUIT = "unload", "reload", "quit"

#: How long a script's unload hooks may run before its worker is stopped.
UNLOAD_GRACE_MS = 3000

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+),? in (?P<func>\S+)')
_OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory", "out of memory",
                  "can't start new thread")


@dataclass
class Life:
    """The lifecycle facts of one worker the client keeps beside it."""

    intent: str = ""                 # UNLOAD, RELOAD, QUIT or "" (none asked)
    stopped_after_grace: bool = False
    stderr_tail: List[str] = field(default_factory=list)  # kept after its file is removed


@dataclass
class Ending:
    kind: str            # 'crash' | 'failed' | 'stopped' | '' (nothing to say)
    text: str            # the line, without the restart part for crashes
    restartable: bool


def signal_name(exitcode: Optional[int]) -> str:
    """'SIGABRT', 'exit code 3' or 'unknown exit status'."""
    if exitcode is None:
        return "unknown exit status"
    if exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit code {exitcode}"


def where(tail: List[str], script_path: str) -> str:
    """'in weather.py line 7, boom()': the innermost frame of the script
    itself, from faulthandler's dump (most recent call first) or a traceback
    (most recent call last)."""
    fatal = [i for i, line in enumerate(tail) if line.startswith("Fatal Python error")]
    if fatal:
        dump = tail[fatal[-1]:]
        # All threads are dumped; the one that crashed is "Current thread".
        current = [i for i, line in enumerate(dump) if line.startswith("Current thread")]
        if current:
            rest = dump[current[0] + 1:]
            end = next((i for i, line in enumerate(rest) if line.startswith("Thread ")), len(rest))
            dump = rest[:end]
        frames = [_FRAME.search(line) for line in dump]
    else:
        frames = [_FRAME.search(line) for line in reversed(tail)]
    for match in frames:
        if match and os.path.abspath(match["file"]) == os.path.abspath(script_path):
            return f"in {os.path.basename(match['file'])} line {match['line']}, {match['func']}()"
    return ""


def describe(label: str, script_path: str, *, life: Life, loaded: bool,
             exitcode: Optional[int], tail: List[str], memory_limit_mb: int) -> Ending:
    """The one line for a worker that has ended."""
    if life.intent:
        if life.stopped_after_grace and life.intent != QUIT:
            return Ending("stopped", f"hexsandbox: {label} did not finish unloading within "
                          f"{UNLOAD_GRACE_MS // 1000} s and was stopped.", False)
        return Ending("", "", False)
    out_of_memory = memory_limit_mb > 0 and any(m in line for line in tail for m in _OUT_OF_MEMORY)
    if not loaded:
        if exitcode == limits.EXIT_LIMIT_TOO_SMALL or out_of_memory:
            return Ending("failed", f"hexsandbox: {label} could not start: memory limit "
                          f"{memory_limit_mb} MB is too small for Python.", False)
        how = (f"it exited with code {exitcode} while loading" if exitcode is not None
               and exitcode >= 0 else f"it died while loading ({signal_name(exitcode)})")
        last = f" (last output: {tail[-1].strip()})" if tail and exitcode not in (0,) else ""
        return Ending("failed", f"hexsandbox: {label} could not load: {how}{last}; "
                      f"it is not restarted.", False)
    place = where(tail, script_path)
    if out_of_memory:
        text = f"hexsandbox: {label} ran out of memory (limit {memory_limit_mb} MB) and was stopped"
    else:
        text = f"hexsandbox: {label} crashed ({signal_name(exitcode)})"
    return Ending("crash", text + (f" {place}" if place else ""), True)


def log_lines(reports: list, label: str, stderr_tail: List[str]) -> List[str]:
    """What ``/sandbox log NAME`` shows: its last reports, then the last
    lines its worker wrote to stderr (the live worker's, else those kept with
    the latest report, e.g. the faulthandler dump of a crash)."""
    mine = [r for r in reports if r.script == label][-10:]
    if not stderr_tail:
        stderr_tail = next((r.details for r in reversed(mine) if r.details), [])
    lines = [f"hexsandbox: log of {label}: {len(mine)} recent reports"] + ["  " + r.text for r in mine]
    lines.append(f"hexsandbox: last output of {label}'s worker:" if stderr_tail
                 else f"hexsandbox: {label}'s worker wrote nothing to stderr.")
    fatal = [i for i, line in enumerate(stderr_tail) if line.startswith("Fatal Python error")]
    shown = stderr_tail[fatal[-1]:][:30] if fatal else stderr_tail[-20:]  # a crash: its dump's start
    lines += ["  " + line for line in shown]
    return lines
