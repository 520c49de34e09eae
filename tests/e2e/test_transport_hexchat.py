"""Hostile workers in real HexChat 2.16: no frame, body or flood freezes it (issue 7).

Each hostile script is a real sandboxed worker that writes raw bytes to its
own socket. An in-process probe timer (10 ms) measures HexChat's main-loop
gaps; the echo script proves other scripts keep answering; each fault is
reported once in the tab the user looks at. The emulator twins are in
tests/core/test_transport.py.
"""

import os
import sys
import time

import pytest

import gap_probe
from test_sandbox_hexchat import ECHO, PROBE, _front_lines

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hostile_worker  # noqa: E402

DEADLINE_MS = 500
SLACK_S = 0.050

#: script name -> (command, what it does, words the one report must hold)
CASES = {
    "partial_hook": ("PHOOK", "raw(PARTIAL); time.sleep(60)", "sent an incomplete message"),
    "partial_thread": ("PTHREAD", "in_thread(lambda: (raw(PARTIAL), time.sleep(60)))",
                       "sent an incomplete message"),
    "int_keys": ("INTKEYS", "in_thread(lambda: raw(frame(INT_KEYS)))", "not allowed for map key"),
    "deep": ("DEEP", "raw(frame(DEEP))", "StackError"),
    "huge": ("HUGE", "raw(struct.pack('>I', HUGE)); raw(b'x' * HUGE)",
             "sent a message of 104857600 bytes"),
}


def _hostile(name):
    command, action, _ = CASES[name]
    return hostile_worker.script(name, command, action)


def _wait_ticks(hc):
    """Let the probe tick once, so two stalls never share a main-loop turn."""
    ticks = hc.eval("script('probe')['state']['ticks']")
    while hc.eval("script('probe')['state']['ticks']") <= ticks:
        pass


def _echo_answers(hc, server, text):
    since = server.mark()
    server.send(f":bob!b@example.org PRIVMSG #test :!echo {text}")
    server.wait_for(f"PRIVMSG #test :echo {text}", since=since, timeout=20)


def test_hostile_frames_and_bodies(sandboxed_hexchat_factory, scripted_server):
    scripts = {f"{name}.py": _hostile(name) for name in CASES}
    scripts["echo.py"] = ECHO
    hc = sandboxed_hexchat_factory(sandbox=scripts, scripts={"probe.py": PROBE},
                                   ini=f"[defaults]\ndeadline_ms = {DEADLINE_MS}\nrestart = no\n")
    hc.wait_running("echo", *CASES)
    hc.eval("script('probe')['state'].update(max_gap=0.0, last=None)")
    for name, (command, _, _) in CASES.items():
        hc.command(command, "#test")
        _wait_ticks(hc)
        _echo_answers(hc, scripted_server, f"after {name}")

    state = hc.wait_scripts(lambda st: not any(s["name"] in CASES for s in st), timeout=30,
                            what="every hostile worker dropped")
    assert [s["name"] for s in state] == ["echo"]
    _echo_answers(hc, scripted_server, "at the end")

    probe = hc.eval("script('probe')['state']")
    assert probe["max_gap"] <= DEADLINE_MS / 1000 + SLACK_S, probe
    reports = hc.reports()
    shown = [line.lstrip("\t") for line in _front_lines(hc)]
    for name, (command, _, words) in CASES.items():
        mine = [r for r in reports if r["script"] == name and r["kind"] == "protocol"]
        assert len(mine) == 1, reports
        assert words in mine[0]["text"] and mine[0]["text"].endswith("it was stopped."), mine
        assert shown.count(mine[0]["text"]) == 1, "told once, in the front tab"
    late = {r["script"]: r["text"] for r in reports if r["kind"] == "late"}
    assert "did not answer command 'PHOOK' within 500 ms" in late["partial_hook"]
    # partial_thread's thread may write its half frame before the hook's own
    # answer is written; the answer then becomes part of that frame and the
    # hook is late too (said once). Nobody else may be late.
    assert set(late) <= {"partial_hook", "partial_thread"}, reports
    assert len(late) == len([r for r in reports if r["kind"] == "late"]), "each told once"
    assert not [r for r in reports if r["kind"] == "crash"], reports


FLOODER = '''
__module_name__ = "flooder"
import hexchat, threading
def flood():
    i = 0
    while True:
        hexchat.command("echo tick %d" % i)
        i += 1
def go(word, word_eol, userdata):
    threading.Thread(target=flood, daemon=True).start()
    return hexchat.EAT_ALL
hexchat.hook_command("FLOOD", go)
'''

TICKER = '''
__module_name__ = "ticker"
import hexchat
n = [0]
def tick(userdata):
    n[0] += 1
    hexchat.prnt("ticker %d" % n[0])
    return True
hexchat.hook_timer(500, tick)
'''


def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int([line for line in f if line.startswith("VmRSS:")][0].split()[1])


# A 30 s stress test with a bound on HexChat's main-loop gaps: run alone,
# after the parallel suite (scripts/dev.sh), or it measures the other tests.
@pytest.mark.stress
def test_a_30_s_command_flood_then_unload(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"flooder.py": FLOODER, "ticker.py": TICKER, "echo.py": ECHO},
                                   scripts={"probe.py": PROBE},
                                   ini=f"[defaults]\ndeadline_ms = {DEADLINE_MS}\nrestart = no\n")
    hc.wait_running("flooder", "ticker", "echo")
    hc.command("FLOOD", "#test")
    deadline = time.monotonic() + 10
    while not any(line.lstrip("\t").startswith("tick ") for line in hc.transcript()["#test"]):
        assert time.monotonic() < deadline, "the flood did not start"
    hc.eval("script('probe')['state'].update(max_gap=0.0, last=None)")
    hc.eval(gap_probe.PROBE)  # what a failure was (its longest gaps too), for the message only
    rss_before = _rss_kb(hc.pid)
    ticker_before = sum(1 for line in hc.transcript()["#test"] if line.lstrip("\t").startswith("ticker "))
    # The probe alone measures the gaps the flood causes: an echo round trip
    # is a hook HexChat waits for by design (bounded by the deadline, see
    # the test above), and on a loaded 2-CPU machine it can take a while to
    # be scheduled, so the echo is checked around the measured window.
    # A fixed 30 s observation window. The test itself stays out of HexChat's
    # way meanwhile: busy-looping control round trips would add a CPU hog and
    # a stream of main-loop work of the test's own to what is measured.
    with gap_probe.MachineStalls() as machine:
        time.sleep(30)
    rss_after = _rss_kb(hc.pid)
    probe = hc.eval("script('probe')['state']")
    findings = gap_probe.describe(hc.eval(gap_probe.READ), machine)
    _echo_answers(hc, scripted_server, "during the flood")
    lines = [line.lstrip("\t") for line in hc.transcript()["#test"]]
    ticks = sum(1 for line in lines if line.startswith("tick "))
    ticker = sum(1 for line in lines if line.startswith("ticker "))
    assert ticks > 10_000, "the flood ran"
    assert ticker - ticker_before >= 50, "the other script's timer kept ticking (every 500 ms)"
    assert probe["max_gap"] <= 0.100, f"{probe}\n{findings}"
    assert rss_after - rss_before < 20 * 1024, f"HexChat RSS grew {rss_after - rss_before} kB"
    assert not hc.reports()

    hc.command("sandbox unload flooder", "#test")
    hc.wait_scripts(lambda st: [s["name"] for s in st] == ["ticker", "echo"]
                    or [s["name"] for s in st] == ["echo", "ticker"], what="the flooder to go")
    _echo_answers(hc, scripted_server, "after unload")
    lines = [line.lstrip("\t") for line in hc.transcript()["#test"]]
    told = [i for i, line in enumerate(lines) if line == "hexsandbox: unloading flooder."]
    assert len(told) == 1
    after = [line for line in lines[told[0]:] if line.startswith("tick ")]
    assert not after, f"{len(after)} commands ran after 'unloading flooder', e.g. {after[:3]}"
    assert os.path.exists(f"/proc/{hc.pid}")
