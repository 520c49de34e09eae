"""Synchronous hook round trip: sandboxed vs in-process vs the raw pipe floor.

All three are measured in one run on the same machine:

* ``raw pipe floor``: a spawned ``multiprocess`` worker answering
  ``send_bytes``/``recv_bytes`` ping-pong with small payloads -- the least a
  cross-process synchronous call can cost with this transport;
* ``in-process hook``: the emulator calling a Python hook callback directly,
  the way HexChat's in-process Python plugin calls a script;
* ``sandboxed hook``: the same callback in a worker, reached through the
  client's forwarding hook (send CALL, wait on the main thread, reply);
* ``sandboxed hook + prnt``: the callback also prints a line (one-way call
  served while the client waits), the common shape of a real hook.

Usage: python benchmarks/hook_roundtrip.py [--n 5000] [--json FILE]
Prints a table and writes JSON (default benchmarks/results/hook_roundtrip.json).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Dict, List

from hexsandbox.benchtools import percentiles, pipe_floor, time_each, write_results

HERE = os.path.dirname(os.path.abspath(__file__))


def in_process_hook(n: int) -> Dict[str, float]:
    from hexsandbox.emulator import Emulator

    emu = Emulator(config_dir=tempfile.mkdtemp(prefix="bench-"))
    emu.connect()
    emu.join("#bench", users=["alice"])

    def callback(word, word_eol, server_time):
        return 0

    hook = emu.hook_print("Channel Message", 0, callback, False)
    word, word_eol = ["alice", "hello world", "", ""], ["alice hello world", "hello world", "", ""]
    return percentiles(time_each(lambda: hook.callback(word, word_eol, 0), n))


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


def sandboxed_hooks(n: int) -> Dict[str, Dict[str, float]]:
    from hexsandbox.benchtools import sandboxed_hook
    from hexsandbox.testing import EmulatedClient

    client = EmulatedClient(deadline_ms=5000)
    try:
        client.load(SCRIPT)
        sb = client.sandbox
        return {"sandboxed hook": sandboxed_hook(sb, "bench", "print 'Channel Message'", n),
                "sandboxed hook + prnt": sandboxed_hook(sb, "bench", "print 'Channel Action'", n)}
    finally:
        client.close()


def main(argv: List[str] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "hook_roundtrip.json"))
    args = parser.parse_args(argv)

    results: Dict[str, Dict[str, float]] = {}
    results["raw pipe floor"] = pipe_floor(args.n)
    results["in-process hook"] = in_process_hook(args.n)
    results.update(sandboxed_hooks(args.n))

    print(f"{'measure':<24} {'n':>6} {'median us':>10} {'p99 us':>9} {'mean us':>9}")
    for name, r in results.items():
        print(f"{name:<24} {r['n']:>6} {r['median_us']:>10.1f} {r['p99_us']:>9.1f} {r['mean_us']:>9.1f}")
    write_results(args.json, results, argv, "benchmarks/hook_roundtrip.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
