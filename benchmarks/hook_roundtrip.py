"""Synchronous hook round trip: sandboxed vs in-process vs the raw pipe floor.

All are measured in one run on the same machine:

* ``raw pipe floor``: a spawned ``multiprocess`` worker answering
  ``send_bytes``/``recv_bytes`` ping-pong with small payloads -- the least a
  cross-process synchronous call can cost with this transport;
* ``in-process hook``: the emulator calling a Python hook callback directly,
  the way HexChat's in-process Python plugin calls a script;
* ``sandboxed hook``: the same callback in a worker, reached through the
  client's forwarding hook (send CALL, wait on the main thread, reply);
* ``sandboxed hook + prnt``: the callback also prints a line (one-way call
  served while the client waits), the common shape of a real hook;
* the two sandboxed measures again with ``spin_us = 200`` (hexsandbox/spinwait.py:
  both sides poll the pipe 200 us before sleeping; off by default below 4 CPUs).

Usage: python benchmarks/hook_roundtrip.py [--n 6000] [--rounds 3] [--json FILE]
The measures are taken in turn, --rounds times (see benchtools.interleaved).
Prints a table and writes JSON (default benchmarks/results/hook_roundtrip.json).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Callable, List

from hexsandbox.benchtools import (bench_arguments, interleaved, pipe_floor_samples, print_table,
                                   switches_per_call, time_each, write_results)

HERE = os.path.dirname(os.path.abspath(__file__))


def in_process_hook() -> Callable[[int], List[int]]:
    from hexsandbox.emulator import Emulator

    emu = Emulator(config_dir=tempfile.mkdtemp(prefix="bench-"))
    emu.connect()
    emu.join("#bench", users=["alice"])

    def callback(word, word_eol, server_time):
        return 0

    hook = emu.hook_print("Channel Message", 0, callback, False)
    word, word_eol = ["alice", "hello world", "", ""], ["alice hello world", "hello world", "", ""]
    return lambda n: time_each(lambda: hook.callback(word, word_eol, 0), n)


SCRIPT = '''
__module_name__ = "bench"
import hexchat
def quiet(word, word_eol, userdata):
    return hexchat.EAT_NONE
def chatty(word, word_eol, userdata):
    hexchat.prnt("seen " + word[1])
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", quiet)
hexchat.hook_print("Channel Action", chatty)
'''


def main(argv: List[str] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = bench_arguments(argv, __doc__, os.path.join(HERE, "results", "hook_roundtrip.json"))

    from hexsandbox.benchtools import sandboxed_hook_call, sandboxed_hook_samples
    from hexsandbox.testing import EmulatedClient

    client = EmulatedClient(deadline_ms=5000, spin_us=0)
    spinning = EmulatedClient(deadline_ms=5000, spin_us=200)
    try:
        client.load(SCRIPT)
        spinning.load(SCRIPT)
        sb, sp = client.sandbox, spinning.sandbox
        results = interleaved({
            "raw pipe floor": pipe_floor_samples,
            "in-process hook": in_process_hook(),
            "sandboxed hook": lambda k: sandboxed_hook_samples(sb, "bench", "print 'Channel Message'", k),
            "sandboxed hook + prnt":
                lambda k: sandboxed_hook_samples(sb, "bench", "print 'Channel Action'", k),
            "sandboxed hook, spin 200 us":
                lambda k: sandboxed_hook_samples(sp, "bench", "print 'Channel Message'", k),
            "... + prnt, spin 200 us":
                lambda k: sandboxed_hook_samples(sp, "bench", "print 'Channel Action'", k),
        }, args.n, args.rounds)
        # How many times each side sleeps and wakes per hook (all threads).
        switches = switches_per_call({"HexChat side": os.getpid(), "worker": sb.find("bench").worker.pid},
                                     sandboxed_hook_call(sb, "bench", "print 'Channel Message'"),
                                     args.n)
    finally:
        client.close()
        spinning.close()

    print_table(results)
    print("context switches per sandboxed hook: " +
          ", ".join(f"{name} {count:.2f}" for name, count in switches.items()))
    write_results(args.json, results, argv, "benchmarks/hook_roundtrip.py",
                  {"context_switches_per_hook": switches})
    return 0


if __name__ == "__main__":
    sys.exit(main())
