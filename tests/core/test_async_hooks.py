"""`hooks = async` (issue 14): HexChat never waits for the script's hooks;
events still reach it, in order, and cannot be eaten."""

import os
import sys
import time

from hexsandbox.client import State

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import slow_eater  # noqa: E402

SLOW_EATER = slow_eater.script(sleep_s=0.3)


def _load(client, tmp_path, hooks_async):
    path = tmp_path / "slow_eater.py"
    path.write_text(SLOW_EATER)
    script = client.sandbox.load(str(path), hooks_async=hooks_async)
    client.wait_for(lambda: script.state is State.RUNNING, 20, "slow_eater to load")
    return script


def test_async_hooks_never_make_hexchat_wait(hexchat_client, tmp_path):
    script = _load(hexchat_client, tmp_path, hooks_async=True)
    started = time.monotonic()
    for n in range(3):
        hexchat_client.feed(f":alice!a@example.org PRIVMSG #test :message {n}")
    took = time.monotonic() - started
    assert took < 0.3, f"HexChat waited {took:.2f} s for an async script"
    lines = hexchat_client.lines("#test")
    assert sum("message" in line and "slow_eater" not in line for line in lines) == 3, \
        "nothing was eaten: HexChat printed every message itself"
    for n in range(3):
        hexchat_client.wait_for_line(f"slow_eater saw message {n}")
    saw = [line for line in hexchat_client.lines("#test") if line.startswith("slow_eater saw")]
    assert saw == [f"slow_eater saw message {n}" for n in range(3)], "in order"
    assert not script.late and not [r for r in hexchat_client.sandbox.reports if r.kind == "late"]


def test_sync_hooks_still_wait_and_eat(hexchat_client, tmp_path):
    """The control: the same script, waited on, eats the message."""
    _load(hexchat_client, tmp_path, hooks_async=False)
    started = time.monotonic()
    hexchat_client.feed(":alice!a@example.org PRIVMSG #test :eaten")
    assert time.monotonic() - started >= 0.3
    lines = hexchat_client.lines("#test")
    assert "slow_eater saw eaten" in lines
    assert not [line for line in lines if "eaten" in line and "slow_eater" not in line]


COUNTER = '''
__module_name__ = "counter"
import hexchat
seen = []
def on_msg(word, word_eol, userdata):
    seen.append(int(word[1].split()[-1]))
    return hexchat.EAT_ALL
def on_unload(userdata):
    in_order = seen == list(range(len(seen)))
    hexchat.prnt("counter saw %d in order=%s" % (len(seen), in_order))
hexchat.hook_print("Channel Message", on_msg)
hexchat.hook_unload(on_unload)
'''


def _load_counter(client, tmp_path, trace_file):
    from hexsandbox.rpc.trace import Trace

    path = tmp_path / "counter.py"
    path.write_text(COUNTER)
    script = client.sandbox.load(str(path), hooks_async=True)
    client.wait_for(lambda: script.state is State.RUNNING, 20, "counter to load")
    script.session.trace = Trace(str(trace_file))
    return script


def _sent_methods(trace_file):
    import json

    return [r.get("method") for r in map(json.loads, trace_file.read_text().splitlines())
            if r.get("dir") == "out" or r.get("direction") == "out"]


def test_a_burst_goes_in_batches_and_arrives_whole_and_in_order(hexchat_client, tmp_path):
    """1,000 messages in one main-loop turn: a few ``events`` frames, not a
    request each; every event reaches the script, in order, uneaten."""
    from hexsandbox.sandbox.hooks import EVENTS_PER_BATCH

    trace_file = tmp_path / "trace.jsonl"
    script = _load_counter(hexchat_client, tmp_path, trace_file)
    emu = hexchat_client.emu
    for n in range(1000):
        emu.feed(f":alice!a@example.org PRIVMSG #test :burst {n}")  # one turn: no pump between
    emu.pump()
    hexchat_client.settle(script)
    sent = _sent_methods(trace_file)
    assert "hook" not in sent, "an async event went as a request"
    assert 1 <= sent.count("events") <= -(-1000 // EVENTS_PER_BATCH) + 1
    assert sum("burst" in line for line in hexchat_client.lines("#test")) == 1000, "none eaten"
    hexchat_client.unload(script)
    assert "counter saw 1000 in order=True" in hexchat_client.lines("#test")
    assert script.missed_events == 0


def test_held_events_go_before_the_unload_that_follows_them(hexchat_client, tmp_path):
    """Events still held when the script is unloaded in the same turn reach
    it before its unload hooks run, as in process."""
    script = _load_counter(hexchat_client, tmp_path, tmp_path / "trace.jsonl")
    emu = hexchat_client.emu
    for n in range(5):
        emu.feed(f":alice!a@example.org PRIVMSG #test :late {n}")
    hexchat_client.sandbox.unload(script)  # before the turn ends: the batch is still held
    hexchat_client.wait_for(lambda: script.dead, 10, "counter to exit")
    emu.pump()
    assert "counter saw 5 in order=True" in hexchat_client.lines("#test")


ECHO_AFTER = '''
__module_name__ = "echo_after"
import hexchat
def on_msg(word, word_eol, userdata):
    if word[1].startswith("after"):
        hexchat.prnt("echo_after got " + word[1])
hexchat.hook_print("Channel Message", on_msg)
'''


def test_a_stopped_async_script_loses_events_not_hexchat(hexchat_client, tmp_path):
    """A worker that stopped reading (SIGSTOP): its batches are dropped and
    counted once its socket is full; no turn of HexChat's blocks on it, and
    once it runs again it gets new events."""
    import os
    import signal

    path = tmp_path / "echo_after.py"
    path.write_text(ECHO_AFTER)
    script = hexchat_client.sandbox.load(str(path), hooks_async=True)
    hexchat_client.wait_for(lambda: script.state is State.RUNNING, 20, "echo_after to load")
    emu = hexchat_client.emu
    os.kill(script.worker.pid, signal.SIGSTOP)
    try:
        longest = 0.0
        for turn in range(200):
            started = time.monotonic()
            for n in range(128):
                emu.feed(f":alice!a@example.org PRIVMSG #test :flood {turn} {n} " + "x" * 200)
            emu.pump()
            longest = max(longest, time.monotonic() - started)
            if script.missed_events:
                break
        assert script.missed_events > 0, "the socket never filled: nothing was dropped"
        assert longest < 0.5, f"a turn took {longest:.2f} s: HexChat blocked on a stopped worker"
    finally:
        os.kill(script.worker.pid, signal.SIGCONT)
    hexchat_client.settle(script)
    hexchat_client.feed(":alice!a@example.org PRIVMSG #test :after the flood")
    hexchat_client.wait_for_line("echo_after got after the flood")


PERL_COUNTER = r'''
use strict; use warnings;
HexChat::register("perl_counter", "1.0", "counts");
my @seen;
HexChat::hook_print("Channel Message", sub {
    my $n = (split / /, $_[0][1])[-1];
    push @seen, $n;
    HexChat::print("perl_counter got $n") if $n == 199;
    return HexChat::EAT_ALL;
});
HexChat::hook_command("perlseen", sub {
    my $in_order = join(",", @seen) eq join(",", 0 .. $#seen) ? 1 : 0;
    HexChat::print("perl_counter saw " . scalar(@seen) . " in order=$in_order");
    return HexChat::EAT_ALL;
});
'''


def test_a_perl_script_takes_batched_events_too(hexchat_client, tmp_path):
    path = tmp_path / "perl_counter.pl"
    path.write_text(PERL_COUNTER)
    script = hexchat_client.sandbox.load(str(path), hooks_async=True)
    hexchat_client.wait_for(lambda: script.state is State.RUNNING, 20, "perl_counter to load")
    emu = hexchat_client.emu
    for n in range(200):
        emu.feed(f":alice!a@example.org PRIVMSG #test :perl {n}")
    emu.pump()
    hexchat_client.wait_for_line("perl_counter got 199")
    shown = [line for line in hexchat_client.lines("#test") if "perl " in line and "perl_counter" not in line]
    assert len(shown) == 200, "none eaten"
    hexchat_client.type("/perlseen")
    hexchat_client.wait_for_line("perl_counter saw 200 in order=1")


DEPTH = '''
__module_name__ = "depth"
import hexchat
depth = [0, 0, 0]  # now, deepest, calls
def on_msg(word, word_eol, userdata):
    depth[0] += 1
    depth[1] = max(depth[1], depth[0])
    hexchat.get_info("channel")  # a round trip: later events arrive meanwhile
    depth[2] += 1
    depth[0] -= 1
def on_unload(userdata):
    hexchat.prnt("depth deepest=%d calls=%d" % (depth[1], depth[2]))
hexchat.hook_print("Channel Message", on_msg)
hexchat.hook_unload(on_unload)
'''


def test_async_events_never_run_inside_another_events_callback(hexchat_client, tmp_path):
    """While a callback waits for its own call, the events that come in are
    held until it returns (in process no callback runs inside another one
    unless that call fired it), and the settle barrier waits behind them."""
    path = tmp_path / "depth.py"
    path.write_text(DEPTH)
    script = hexchat_client.sandbox.load(str(path), hooks_async=True)
    hexchat_client.wait_for(lambda: script.state is State.RUNNING, 20, "depth to load")
    for n in range(60):
        hexchat_client.feed(f":alice!a@example.org PRIVMSG #test :one at a time {n}")  # a turn each
    hexchat_client.settle(script)
    hexchat_client.unload(script)
    assert "depth deepest=1 calls=60" in hexchat_client.lines("#test")
