"""A 5,000-message burst through N hooked scripts, on the emulator.

The same trivial script (``hook_print('Channel Message')``, EAT_NONE) N times
(``--sizes 1,10,30``), three ways, in one run:

* **in process**: the callbacks registered on the emulator directly, called
  as HexChat's Python plugin calls a script;
* **sandboxed**: one worker each, HexChat waiting for every hook;
* **async**: one worker each with ``hooks = async`` (batched one-way events).

Measured: the time the main thread takes to take in the burst (every
message fed in one turn, then the turn's end), and for the sandboxed modes
the time until every worker has run every callback (a barrier per worker).
The emulator's own handling of a message is most of the in-process figure;
real HexChat is benchmarks/hexchat_scale.py.

Usage: python benchmarks/emulator_burst.py [--sizes 1,10,30] [--messages 5000] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, List

from hexsandbox.benchtools import write_results
from hexsandbox.client import State
from hexsandbox.testing import EmulatedClient

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = '''
__module_name__ = "burst{n}"
import hexchat
def on_message(word, word_eol, userdata):
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", on_message)
'''
MODES = ("in process", "sandboxed", "async")


def one(size: int, mode: str, messages: int) -> Dict[str, float]:
    with EmulatedClient(deadline_ms=10000) as client:
        emu = client.emu
        if mode == "in process":
            for _ in range(size):
                emu.hook_print("Channel Message", 0, lambda word, word_eol, t: 0, False)
        else:
            scripts = []
            for n in range(size):
                path = os.path.join(client.config_dir, f"burst{n}.py")
                with open(path, "w") as f:
                    f.write(SOURCE.format(n=n))
                scripts.append(client.sandbox.load(path, hooks_async=mode == "async"))
            client.wait_for(lambda: all(s.state is State.RUNNING for s in scripts), 60, "loads")
            client.settle()
        lines = [f":alice!a@example.org PRIVMSG #test :burst message {i}" for i in range(messages)]
        began = time.perf_counter()
        for line in lines:
            emu.feed(line)
        emu.pump()
        taken = time.perf_counter() - began
        client.settle()
        done = time.perf_counter() - began
        return {"main_thread_s": round(taken, 3), "all_run_s": round(done, 3)}


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,30")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "emulator_burst.json"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    results: Dict[str, Any] = {}
    print(f"{'scripts':>7}  " + "  ".join(f"{m:>22}" for m in MODES))
    for size in sizes:
        row = {mode: one(size, mode, args.messages) for mode in MODES}
        results[str(size)] = row
        base = row["in process"]["main_thread_s"]
        cells = [f"{row[m]['main_thread_s']:>8.3f} s ({row[m]['main_thread_s'] / base:>4.1f}x)"
                 for m in MODES]
        print(f"{size:>7}  " + "  ".join(f"{c:>22}" for c in cells))
    print("(main thread's time to take the burst; ratios to in process)")
    write_results(args.json, results, argv, "benchmarks/emulator_burst.py")


if __name__ == "__main__":
    main(sys.argv[1:])
