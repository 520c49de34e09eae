"""A worker's stack dump, cut down to the script's own frames and threads.

``Sandbox.stack`` returns every thread's Python stack as the worker sees it:
``--- NAME (ID) ---`` headers from the worker's receiver thread, or
faulthandler's ``Thread 0x... (most recent call first):`` blocks when that
could not answer. Either way the script's frames sit under a dozen frames of
machinery (``multiprocess``'s spawn, hexsandbox's worker loop, ``threading``'s
bootstrap) that say nothing to the script's author. ``/sandbox stack NAME``
shows :func:`script_view`; ``-v`` shows the dump as it came.

What counts as machinery: frames in files under a ``hexsandbox``,
``multiprocess``, ``_multiprocess`` or ``dill`` folder, spawn's ``<string>``
entry point, and ``threading``'s ``_bootstrap``/``_bootstrap_inner``/``run``.
Other standard-library frames stay: where a script blocks in ``socket`` or
``urllib`` is what its author wants to see. A frame in the script's own file
is always kept, wherever the file lives. A thread with no frame outside the
machinery and the standard library is the worker's own and is left out; the
callback thread is always shown, and says when it is between callbacks.
"""

from __future__ import annotations

import os
import re
import sysconfig
from typing import List, Tuple

_MACHINERY_DIRS = frozenset({"hexsandbox", "multiprocess", "_multiprocess", "dill"})
_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"])
_THREADING_BOOTSTRAP = frozenset({"_bootstrap", "_bootstrap_inner", "run"})
#: The worker's thread that runs the script and its callbacks (worker.py's name).
_CALLBACK_THREAD = "--- callback thread"
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+,? in (?P<func>\S+)')
_HEADER = re.compile(r"^(--- .* ---|Thread 0x[0-9a-fA-F]+.*:|Current thread 0x[0-9a-fA-F]+.*:)\s*$")

#: One thread: its header line and its body as (frame line or None, lines).
_Block = Tuple[str, List[Tuple[bool, List[str]]]]


def _is_machinery(path: str, func: str, script_path: str) -> bool:
    if os.path.abspath(path) == os.path.abspath(script_path):
        return False
    if path == "<string>":
        return True
    if os.path.basename(path) == "threading.py" and func in _THREADING_BOOTSTRAP:
        return True
    parts = os.path.normpath(path).split(os.sep)
    return any(part in _MACHINERY_DIRS for part in parts[:-1])


def _blocks(text: str) -> Tuple[List[str], List[_Block]]:
    """Lines before the first header, then each thread's header and entries
    (an entry is a frame line with its source lines, or loose lines)."""
    preamble: List[str] = []
    blocks: List[_Block] = []
    for line in text.splitlines():
        if _HEADER.match(line):
            blocks.append((line, []))
            continue
        if not blocks:
            preamble.append(line)
            continue
        entries = blocks[-1][1]
        if _FRAME.match(line):
            entries.append((True, [line]))
        elif entries and entries[-1][0] and line.startswith("    "):
            entries[-1][1].append(line)   # the source line under a frame
        else:
            entries.append((False, [line]))
    return preamble, blocks


def _is_stdlib(path: str) -> bool:
    return os.path.abspath(path).startswith(_STDLIB + os.sep)


def script_view(text: str, script_path: str) -> Tuple[str, int]:
    """The dump without machinery frames, and how many frames were hidden.

    A thread is the script's when a frame is neither machinery nor the
    standard library (its target function, in the script or a module it
    uses); other threads are the worker's own and are left out.
    """
    preamble, blocks = _blocks(text)
    out = list(preamble)
    hidden = 0
    for header, entries in blocks:
        kept: List[str] = []
        frames = user_frames = dropped = 0
        for is_frame, lines in entries:
            if is_frame:
                frames += 1
                match = _FRAME.match(lines[0])
                assert match is not None
                if _is_machinery(match["file"], match["func"], script_path):
                    dropped += 1
                    continue
                if not _is_stdlib(match["file"]) or match["file"] == script_path:
                    user_frames += 1
            kept.extend(lines)
        if frames and not user_frames:
            if _CALLBACK_THREAD not in header:
                hidden += frames
                continue  # a thread of the worker's own
            kept = ["  not in the script: between callbacks"]
            dropped = frames
        hidden += dropped
        out.append(header)
        out.extend(kept)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out), hidden
