"""Normalised transcripts for differential tests (see docs/differential.md).

A transcript is plain data, the same shape as
``hexsandbox.emulator.scenario.Transcript.normalised()``::

    {"lines": {tab name lower-cased: [line, ...]},   # only what was printed
     "sent": [raw line, ...],                         # since the scenario began
     "pluginprefs": [sorted lines of addon_python.conf]}

Each side first cuts what happened before the scenario began (the printed
lines and sent lines counted at that moment), then applies the same rules.
Every rule here removes something that legitimately differs between HexChat's
in-process plugin, the sandbox and the emulator; anything else must match.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Dict, List, Optional

Transcript = Dict[str, Any]

# Rule 1: the hexsandbox loader's own messages ("hexsandbox: ...") are the
# sandbox talking, not the script. The e2e control addon prints nothing
# (its noise lines are already left out by the harness).
_OWN_PREFIXES = ("hexsandbox:",)

# Rule 2: addresses and object ids ("<... at 0x7f...>", "0x55d0c0de0000").
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")

# Rule 3: traceback framing. In process the python plugin prints
# "From cffi callback <function ... at 0x...>:" and frames of python.py /
# _hexchat.py; sandboxed, the frames are the worker's. Kept: the
# "Traceback (most recent call last):" header and the exception line(s).
_CFFI_HEADER = re.compile(r"^(Exception ignored from|From) cffi callback <.*>:$")
# ... and after the traceback, Python's unraisable hook fails on the plugin's
# stdout writer, which has no flush(): two more framing lines.
_UNRAISABLE = ("Exception ignored in sys.unraisablehook: <built-in function unraisablehook>",
               "AttributeError: 'Stdout' object has no attribute 'flush'")
_TB_HEADER = "Traceback (most recent call last):"
_TB_FRAME = re.compile(r'^\s+File ".*", line \d+(, in .*)?$')

# Rule 6: HexChat writes "[nick has address user@host]" straight into a
# dialog's log file (inbound_privmsg, only when logging is on); it is never
# printed, and the transcript is read from the log files.
_LOG_ONLY = re.compile(r"^\[\S+ has address \S+\]$")

# Rule 4 (sent lines): PONGs to the harness's sync PINGs and HexChat's own
# lag-check PINGs are transport, not script output; the emulator has neither.
_SENT_NOISE = (re.compile(r"^PONG .*e2e-sync-"), re.compile(r"^PING LAG"))


def _text(line: str) -> str:
    return line.split("\t", 1)[1] if "\t" in line else line


def normalise_lines(lines: Sequence[str]) -> List[str]:
    out: List[str] = []
    in_tb = False
    skip_flush = False
    for raw in lines:
        line = raw.rstrip()
        text = _text(line)
        if text.startswith(_OWN_PREFIXES):
            continue
        if _CFFI_HEADER.match(text) or (line.startswith("\t") and _LOG_ONLY.match(text)):
            continue
        if text == _UNRAISABLE[0]:
            skip_flush = True
            continue
        if skip_flush and text == _UNRAISABLE[1]:
            skip_flush = False
            continue
        skip_flush = False
        if text == _TB_HEADER:
            in_tb = True
            out.append(line)
            continue
        if in_tb:
            if _TB_FRAME.match(text):
                continue
            if text.startswith("    ") or text.strip() in ("", "^", "~") or set(text.strip()) <= set("^~"):
                # source line under a frame, or a caret marker (3.11+)
                continue
            in_tb = False
        out.append(_ADDRESS.sub("0x?", line))
    return out


def normalise(lines: Mapping[str, Sequence[str]], baseline: Mapping[str, int],
              sent: Iterable[str], pluginprefs: str,
              config_dir: Optional[str] = None) -> Transcript:
    """``lines``: every printed line per tab; ``baseline``: how many lines
    each tab (lower-cased name) had when the scenario began; ``sent``: raw
    lines sent since the scenario began."""
    merged: Dict[str, List[str]] = {}
    for tab, tab_lines in lines.items():
        merged.setdefault(tab.lower(), []).extend(tab_lines)
    out_lines: Dict[str, List[str]] = {}
    for key in sorted(merged):
        new = merged[key][baseline.get(key, 0):]
        if config_dir:
            # Rule 5: each run has its own config dir (get_info('configdir')).
            new = [l.replace(config_dir, "<configdir>") for l in new]
        new = normalise_lines(new)
        if new:
            out_lines[key] = new
    return {
        "lines": out_lines,
        "sent": [s for s in sent if not any(p.search(s) for p in _SENT_NOISE)],
        "pluginprefs": sorted(l.rstrip() for l in pluginprefs.splitlines() if l.strip()),
    }


def counts(lines: Mapping[str, Sequence[str]]) -> Dict[str, int]:
    """Baseline: lines per tab (lower-cased) right now."""
    out: Dict[str, int] = {}
    for tab, tab_lines in lines.items():
        out[tab.lower()] = out.get(tab.lower(), 0) + len(tab_lines)
    return out


def _flat(t: Transcript) -> List[str]:
    rows: List[str] = []
    for tab, tab_lines in t["lines"].items():
        rows += ["[%s] %s" % (tab, l.replace("\t", "\\t")) for l in tab_lines]
    rows += ["[sent] %s" % s for s in t["sent"]]
    rows += ["[pluginprefs] %s" % p for p in t["pluginprefs"]]
    return rows


def diff(expected: Transcript, actual: Transcript, expected_name: str = "hexchat",
         actual_name: str = "other") -> str:
    """A readable unified diff of two normalised transcripts ('' if equal)."""
    if expected == actual:
        return ""
    return "\n".join(difflib.unified_diff(_flat(expected), _flat(actual), expected_name,
                                          actual_name, lineterm="", n=3))


def assert_same(expected: Transcript, actual: Transcript, expected_name: str,
                actual_name: str, scenario: Optional[str] = None) -> None:
    d = diff(expected, actual, expected_name, actual_name)
    if d:
        head = "transcripts differ%s (- %s, + %s):\n" % (
            " for %s" % scenario if scenario else "", expected_name, actual_name)
        raise AssertionError(head + d + "\n\nfull %s transcript:\n%s" % (
            expected_name, json.dumps(expected, indent=1)))
