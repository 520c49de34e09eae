"""``hexsandbox demo``: the example scripts, sandboxed, on the built-in emulator.

Narrates in plain words what happens: scripts load in their own processes,
react to IRC traffic, run nested commands and threads, and then one crashes
and one hangs while HexChat (here: the emulator) and the others go on.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import List, Optional

from . import slow_policy
from .client import State

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "examples")

#: Used when scripts/examples is not there (e.g. an installed wheel).
FALLBACK = {
    "greeter.py": '''__module_name__ = "greeter"
import hexchat
def on_join(word, word_eol, userdata):
    if hexchat.nickcmp(word[0], hexchat.get_info("nick")) != 0:
        hexchat.command("say Welcome, %s!" % word[0])
hexchat.hook_print("Join", on_join)
''',
    "nested.py": '''__module_name__ = "nested"
import hexchat
def outer(word, word_eol, userdata):
    hexchat.prnt("outer start"); hexchat.command("say nested-hi"); hexchat.prnt("outer end")
    return hexchat.EAT_ALL
hexchat.hook_command("OUTER", outer)
hexchat.hook_print("Your Message", lambda w, we, u: hexchat.prnt("inner saw " + w[1]))
''',
    "threaded_worker.py": '''__module_name__ = "threaded_worker"
import hexchat, threading, time
def lookup(word, word_eol, userdata):
    def work():
        time.sleep(0.2)
        hexchat.prnt("SLOWLOOKUP result: %s: %d letters" % (word[1], len(word[1])))
    threading.Thread(target=work).start()
    return hexchat.EAT_ALL
hexchat.hook_command("SLOWLOOKUP", lookup)
''',
    "crasher.py": '''__module_name__ = "crasher"
import hexchat, ctypes
hexchat.hook_command("CRASH", lambda w, we, u: ctypes.string_at(0))
''',
    "hanger.py": '''__module_name__ = "hanger"
import hexchat, time
def hang(word, word_eol, userdata):
    end = time.monotonic() + float(word[2])
    while time.monotonic() < end:
        pass
    return hexchat.EAT_ALL
hexchat.hook_command("HANG", hang)
''',
}


BENCH = '''__module_name__ = "bench"
import hexchat
hexchat.hook_print("Channel Message", lambda word, word_eol, userdata: hexchat.EAT_NONE)
'''


def what_it_means(median_us: float, p99_us: float) -> str:
    """The hook round trip as a user would weigh it: how many messages a
    second HexChat could still take with such a script, against what IRC
    brings. Only the sandbox's share: HexChat's own work per message (about
    33 us measured in the lab, docs/benchmarks.md) comes on top."""
    per_second = 1e6 / max(median_us, 1.0)
    rounded = int(float(f"{per_second:.2g}"))
    return (f"With it, HexChat can still take about {rounded:,} messages a second "
            f"(each waits {median_us / 1000:.3g} ms for the script, 1 in 100 up to "
            f"{p99_us / 1000:.3g} ms); a busy channel brings a few a second, a netsplit a few "
            f"hundred at once.")


def _say(text: str = "") -> None:
    print(text, flush=True)


def _new_lines(client, before: int, context: str = "#test") -> List[str]:
    return client.lines(context)[before:]


def run_demo(scripts_dir: Optional[str] = None) -> int:
    from .benchtools import sandboxed_hook
    from .testing import EmulatedClient

    folder = scripts_dir or EXAMPLES
    names = ["greeter.py", "nested.py", "threaded_worker.py", "crasher.py", "hanger.py"]
    if not all(os.path.isfile(os.path.join(folder, n)) for n in names):
        folder = tempfile.mkdtemp(prefix="hexsandbox-demo-")
        for name, source in FALLBACK.items():
            with open(os.path.join(folder, name), "w") as f:
                f.write(source)
    _say("hexsandbox demo: HexChat scripts in their own processes, on the built-in HexChat emulator")
    _say(f"(scripts from {folder}; the emulator is connected and in #test with alice and bob)")
    _say()
    with EmulatedClient(deadline_ms=500) as client:
        _say("1. Each script starts in its own worker process:")
        for name in names:
            t0 = time.perf_counter()
            script = client.load(os.path.join(folder, name))
            took = (time.perf_counter() - t0) * 1000
            _say(f"   {script.label:<16} pid {script.pid:<7} {script.state.value:<8} "
                 f"loaded in {took:4.0f} ms, {len(script.backend_hooks)} hooks")
        _say()

        _say("2. carol joins #test; greeter answers from its worker:")
        sent = len(client.sent)
        client.feed(":carol!carol@example.org JOIN #test")
        for line in client.sent[sent:]:
            _say(f"   sent to the server: {line}")
        _say()

        _say("3. /OUTER runs a command whose hook fires another hook, nested as in HexChat:")
        before = len(client.lines("#test"))
        client.type("/OUTER", "#test")
        for line in _new_lines(client, before):
            _say(f"   #test | {line}")
        _say()

        _say("4. /SLOWLOOKUP hexchat: a script thread does slow work and prints when done:")
        before = len(client.lines("#test"))
        client.type("/SLOWLOOKUP hexchat", "#test")
        client.wait_for_line("SLOWLOOKUP result", "#test")
        for line in _new_lines(client, before):
            _say(f"   #test | {line}")
        _say()

        crasher = client.sandbox.find("crasher")
        assert crasher is not None
        _say(f"5. crasher segfaults (pid {crasher.pid}):")
        client.type("/CRASH segv", "#test")
        client.wait_for(lambda: crasher.state is State.CRASHED, 10, "the crash report")
        for report in client.sandbox.reports:
            _say(f"   the user sees: {report.text}")
        _say()

        hanger = client.sandbox.find("hanger")
        assert hanger is not None
        _say("6. hanger spins for 2 s inside a command hook (deadline 500 ms):")
        t0 = time.perf_counter()
        client.type("/HANG spin 2", "#test")
        waited = (time.perf_counter() - t0) * 1000
        _say(f"   HexChat waited {waited:.0f} ms, then went on without it")
        _say(f"   the user sees: {client.sandbox.reports[-1].text}")
        stack = client.sandbox.stack(hanger)
        frame = [line.strip() for line in stack.splitlines() if line.strip().startswith("File ")][-1:]
        _say(f"   /sandbox stack hanger shows: {frame[0] if frame else stack.splitlines()[0]}")
        before = len(client.sent)
        client.feed(":dave!dave@example.org JOIN #test")
        _say(f"   meanwhile greeter still answers: {client.sent[before:]}")
        client.wait_for(lambda: not hanger.late, 10, "hanger to recover")
        _say(f"   then it answers again; HexChat waits for it again once it has kept up for "
             f"{slow_policy.KEEP_UP_S:.0f} s")
        _say()

        client.load(BENCH)
        timing = sandboxed_hook(client.sandbox, "bench", "print 'Channel Message'", 2000)
        _say("7. What a sandboxed script costs HexChat: bench hooks every channel message, and "
             "HexChat waits for its answer each time.")
        _say(f"   {what_it_means(timing['median_us'], timing['p99_us'])}")
        alive = [s.label for s in client.sandbox.scripts if s.state is State.RUNNING]
        _say(f"   still running: {', '.join(alive)}")
    _say()
    _say("Done. To use it in HexChat, see the README's \"Use it in HexChat\" (pipx install from this "
         "checkout, then hexsandbox install); put scripts in ~/.config/hexchat/sandbox/; /sandbox help.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_demo())
