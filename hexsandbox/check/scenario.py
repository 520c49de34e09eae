"""The standard scenario every script goes through in ``hexsandbox check``.

One fixed scenario, so verdicts are comparable across scripts and runs:
server traffic a script typically hooks (messages, a highlight, an action, a
private message, a notice, a nick change, a join and a part), then each of
the script's own commands with a set of plausible arguments, then an hour of
timers on the virtual clock. The same scenario with no script gives the
baseline, so what a script printed or sent is counted without HexChat's own
lines.
"""

from __future__ import annotations

import collections
from typing import Any, Counter, Dict, List, Optional, Tuple

from ..client import Script

NICK = "tester"
CHANNEL = "#test"

#: Server lines of the scenario, in order (they run before the commands).
SERVER_LINES: Tuple[str, ...] = (
    ":alice!alice@example.org PRIVMSG #test :hello everyone",
    ":bob!bob@example.org PRIVMSG #test :tester: are you there?",
    ":alice!alice@example.org PRIVMSG #test :\x01ACTION waves\x01",
    ":carol!carol@example.org PRIVMSG tester :psst, a private word",
    ":alice!alice@example.org NOTICE #test :a channel notice",
    ":alice!alice@example.org NICK :alice_",
    ":dave!dave@example.org JOIN #test",
    ":bob!bob@example.org PART #test :bye",
)

#: What each of a script's commands is called with. Legacy commands mostly
#: take a nick, a channel, a number or free text; calling them only bare and
#: with one word missed the code paths real users reach. "dave" is in #test
#: when the commands run (he joined; bob has parted, alice is alice_ now).
PLAUSIBLE_ARGUMENTS: Tuple[str, ...] = (
    "",                               # bare
    "test",                           # one word
    "dave",                           # a nick that is in the channel
    CHANNEL,                          # a channel
    "42",                             # a number
    "hello there, how are you?",      # free text
    "dave #test 3 and some more words",  # all of it at once
)

HOUR_MS = 3600 * 1000
TIMER_STEP_MS = 60 * 1000


def command_lines(command: str) -> List[str]:
    """The lines typed for one of a script's commands."""
    return [f"/{command} {arg}".rstrip() for arg in PLAUSIBLE_ARGUMENTS]


def hooked_commands(script: Script) -> List[str]:
    """The commands a script hooked (``hook_names`` reads ``command 'NAME'``)."""
    names = set()
    for what in script.hook_names.values():
        if what.startswith("command '"):
            name = what.split("'")[1]
            if name:
                names.add(name)
    return sorted(names)


def stuck(script: Optional[Script]) -> bool:
    """Stop driving a script that died or is stuck past its deadline."""
    return script is not None and (script.dead or script.late)


def play(client: Any, script: Optional[Script] = None) -> List[str]:
    """Play the standard scenario on an ``EmulatedClient``; returns what it typed."""
    for line in SERVER_LINES:
        client.feed(line)
    typed: List[str] = []
    for command in hooked_commands(script) if script is not None else []:
        for text in command_lines(command):
            if stuck(script):
                return typed
            client.type(text, CHANNEL)
            typed.append(text)
    for _ in range(HOUR_MS // TIMER_STEP_MS):
        if stuck(script):
            break
        client.advance(TIMER_STEP_MS)
    return typed


def printed_lines(client: Any) -> List[str]:
    """Every printed line in every tab, as ``EmulatedClient.lines`` shows them."""
    return [line[1:] if line.startswith("\t") else line
            for lines in client.emu.all_lines().values() for line in lines]


_BASELINE: Dict[str, Counter[str]] = {}


def baseline() -> Dict[str, Counter[str]]:
    """What the scenario prints and sends with no script (once per process)."""
    if not _BASELINE:
        from ..testing import EmulatedClient

        with EmulatedClient(nick=NICK, channel=CHANNEL) as client:
            play(client)
            _BASELINE["printed"] = collections.Counter(printed_lines(client))
            _BASELINE["sent"] = collections.Counter(client.sent)
    return _BASELINE


def minus(items: List[str], base: Counter[str]) -> List[str]:
    """``items`` without as many copies of each line as the baseline had."""
    left = collections.Counter(base)
    out = []
    for item in items:
        if left[item] > 0:
            left[item] -= 1
        else:
            out.append(item)
    return out
