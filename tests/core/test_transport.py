"""A worker cannot freeze or flood HexChat through its socket (issue 7).

Each test runs a real hostile worker that writes raw bytes to its own socket
(found the way any process can: the one socket among /proc/self/fd), next to
a well-behaved one, on the emulator. Each asserts that HexChat's main thread
never stalls past the deadline + 50 ms, that the other script keeps
answering, and that the user is told once, in plain words.
The same faults in real HexChat: tests/e2e/test_transport_hexchat.py.
"""

import os
import sys
import time

import pytest

from hexsandbox.client import State
from hexsandbox.rpc.session import WINDOW
from hexsandbox.sandbox.dispatcher import FRAME_DEADLINE_S
from hexsandbox.testing import EmulatedClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hostile_worker  # noqa: E402

DEADLINE_MS = 500
SLACK_S = 0.050

SURVIVOR = '''
__module_name__ = "survivor"
import hexchat, threading
n = [0]
def alive(word, word_eol, userdata):
    n[0] += 1
    hexchat.prnt("survivor alive %d" % n[0])
    threading.Thread(target=lambda: hexchat.prnt("survivor thread %d" % n[0])).start()
    return hexchat.EAT_ALL
hexchat.hook_command("ALIVE", alive)
'''


class Turns:
    """Times every main-loop work item (the emulator's call_soon), the way
    a probe timer measures HexChat's main-loop gaps."""

    def __init__(self, emu):
        self.longest = 0.0
        original = emu.call_soon

        def timed_call_soon(fn):
            def run():
                t0 = time.monotonic()
                try:
                    fn()
                finally:
                    self.longest = max(self.longest, time.monotonic() - t0)
            original(run)

        emu.call_soon = timed_call_soon


@pytest.fixture
def client(tmp_path):
    with EmulatedClient(str(tmp_path), deadline_ms=DEADLINE_MS) as c:
        c.turns = Turns(c.emu)
        yield c


def _load(client, action):
    hostile = client.load(hostile_worker.script("hostile", "GO", action))
    survivor = client.load(SURVIVOR)
    return hostile, survivor


def _timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def _survivor_answers(client, survivor, n):
    """The other script answers on the main thread and from its thread.

    Only the hook call is timed (the emulator's pump would go on to serve
    every other worker's queued turns, which HexChat does in later turns)."""
    took = _timed(lambda: client.emu.type("/ALIVE", "#test"))
    assert took < DEADLINE_MS / 1000 + SLACK_S, took
    assert f"survivor alive {n}" in client.lines("#test")
    client.wait_for_line(f"survivor thread {n}", "#test", timeout=5)
    assert survivor.state is State.RUNNING


def _told_once(client, kind, *words):
    reports = [r for r in client.sandbox.reports if r.script == "hostile" and r.kind == kind]
    assert len(reports) == 1, client.sandbox.reports
    for word in words:
        assert word in reports[0].text, reports[0].text
    assert client.lines("#test").count(reports[0].text) == 1, "shown once in the front tab"
    return reports[0].text


def test_partial_frame_while_a_hook_waits(client):
    hostile, survivor = _load(client, "raw(PARTIAL); time.sleep(30)")
    took = _timed(lambda: client.type("/GO", "#test"))
    assert took < DEADLINE_MS / 1000 + SLACK_S, f"HexChat waited {took:.3f} s"
    assert hostile.late
    _told_once(client, "late", f"did not answer command 'GO' within {DEADLINE_MS} ms")
    _survivor_answers(client, survivor, 1)
    # Half a message and then silence: dropped, with one more line saying why.
    client.wait_for(lambda: hostile.dead, timeout=FRAME_DEADLINE_S + 5, what="the hostile worker dropped")
    _told_once(client, "protocol", "sent an incomplete message", "it was stopped")
    assert client.turns.longest < DEADLINE_MS / 1000 + SLACK_S
    _survivor_answers(client, survivor, 2)


def test_partial_frame_from_a_thread(client):
    hostile, survivor = _load(client, "in_thread(lambda: (raw(PARTIAL), time.sleep(30)))")
    client.type("/GO", "#test")
    _survivor_answers(client, survivor, 1)
    client.wait_for(lambda: hostile.dead, timeout=FRAME_DEADLINE_S + 5, what="the hostile worker dropped")
    _told_once(client, "protocol", "sent an incomplete message", "then nothing for", "it was stopped")
    assert not [r for r in client.sandbox.reports if r.kind == "crash"]
    assert client.turns.longest < SLACK_S * 2
    _survivor_answers(client, survivor, 2)


@pytest.mark.parametrize("where", ["hook", "thread"])
@pytest.mark.parametrize("body, why", [
    ("INT_KEYS", "not allowed for map key"),  # a prnt whose argument is a map with int keys
    ("DEEP", "StackError"),                   # 100,000 nested arrays
])
def test_hostile_bodies_are_refused_by_the_decoder(client, where, body, why):
    action = f"raw(frame({body}))" if where == "hook" else f"in_thread(lambda: raw(frame({body})))"
    hostile, survivor = _load(client, action)
    took = _timed(lambda: client.type("/GO", "#test"))
    assert took < DEADLINE_MS / 1000 + SLACK_S
    client.wait_for(lambda: hostile.dead, what="the hostile worker dropped")
    _told_once(client, "protocol", "sent a malformed message", why, "it was stopped")
    assert client.turns.longest < DEADLINE_MS / 1000 + SLACK_S
    _survivor_answers(client, survivor, 1)


def test_colliding_sets_and_dicts_cannot_even_be_sent(client):
    # Through the API, from a thread: the values the old pickle codec took
    # 20 s to decode. msgpack has no sets, and ints past 64 bits do not pack:
    # the script's own call fails, in its own process.
    hostile = client.load('''
__module_name__ = "hostile"
import hexchat, threading
import hexsandbox.worker as w
colliding = [k * (2**61 - 1) for k in range(3000)]  # quadratic to build here too
def attempt():
    for value in (set(colliding), dict.fromkeys(colliding, 1)):
        try:
            w.RUNTIME.oneway("prnt", w.RUNTIME.current_ctx, [value])
        except Exception as e:
            hexchat.prnt("refused %s: %s" % (type(value).__name__, type(e).__name__))
def go(word, word_eol, userdata):
    threading.Thread(target=attempt).start()
    return hexchat.EAT_ALL
hexchat.hook_command("GO", go)
''')
    survivor = client.load(SURVIVOR)
    client.type("/GO", "#test")
    client.wait_for_line("refused dict: CodecError", "#test")
    assert "refused set: CodecError" in client.lines("#test")
    assert hostile.state is State.RUNNING
    assert client.turns.longest < SLACK_S * 2
    _survivor_answers(client, survivor, 1)


@pytest.mark.parametrize("where", ["hook", "thread"])
def test_a_100_mb_frame_drops_the_worker_at_its_header(client, where):
    send = "raw(struct.pack('>I', HUGE)); raw(b'x' * HUGE)"
    action = send if where == "hook" else f"in_thread(lambda: ({send.replace('; ', ', ')}))"
    hostile, survivor = _load(client, action)
    took = _timed(lambda: client.type("/GO", "#test"))
    assert took < DEADLINE_MS / 1000 + SLACK_S
    client.wait_for(lambda: hostile.dead, what="the hostile worker dropped")
    _told_once(client, "protocol", "sent a message of 104857600 bytes", "it was stopped")
    assert client.turns.longest < DEADLINE_MS / 1000 + SLACK_S
    _survivor_answers(client, survivor, 1)


FLOODER = '''
__module_name__ = "flooder"
import hexchat, threading
sent = [0]
def flood():
    while True:
        hexchat.command("echo tick %d" % sent[0])
        sent[0] += 1
def go(word, word_eol, userdata):
    threading.Thread(target=flood, daemon=True).start()
    return hexchat.EAT_ALL
hexchat.hook_command("FLOOD", go)
'''


def _main_loop_for(client, seconds):
    """Run the emulator's main loop (its queued work) for a while of real time."""
    end = time.monotonic() + seconds
    try:
        client.emu.run_until(lambda: time.monotonic() >= end, timeout=seconds)
    except TimeoutError:
        pass  # the queue ran dry before the time was up


def _ticks(client):
    return sum(1 for line in client.lines("#test") if line.startswith("tick "))


def test_a_command_flood_is_slowed_in_the_worker(client):
    flooder = client.load(FLOODER)
    survivor = client.load(SURVIVOR)
    client.type("/FLOOD", "#test")
    session = flooder.session
    end = time.monotonic() + 3
    n = 0
    most_queued = 0
    while time.monotonic() < end:
        n += 1
        _survivor_answers(client, survivor, n)
        most_queued = max(most_queued, len(session.inbox))
        _main_loop_for(client, 0.1)
    assert _ticks(client) > 1000, "the flood does run"
    assert most_queued <= WINDOW + 1, "HexChat holds at most a window of its messages"
    assert client.turns.longest < 0.100
    assert not client.sandbox.reports


def test_unload_during_a_flood_runs_nothing_it_sent(client):
    flooder = client.load(FLOODER)
    client.type("/FLOOD", "#test")
    client.wait_for(lambda: _ticks(client) > 500, what="the flood")
    before = _ticks(client)
    client.sandbox.unload(flooder)
    client.wait_for(lambda: flooder.dead, what="the flooder to exit")
    client.emu.pump()
    assert _ticks(client) == before, "nothing queued or in flight ran after the unload"
    assert flooder.state is State.STOPPED
