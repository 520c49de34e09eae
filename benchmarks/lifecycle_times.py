"""How long a worker takes to start, and a sandbox to shut down, side by side.

All on the emulator, in one run: load -> running of a trivial script, and
``Sandbox.shutdown`` (what HexChat's quit runs) with four well-behaved
scripts against four misbehaving ones (hung in a hook, SIGSTOPped, flooding
``prnt`` from a thread, with a forked child). Medians of ``--repeat`` rounds.

Usage: python benchmarks/lifecycle_times.py [--repeat 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from typing import Dict, List

from hexsandbox.benchtools import write_results
from hexsandbox.testing import EmulatedClient

HERE = os.path.dirname(os.path.abspath(__file__))

QUIET = '__module_name__ = "quiet%d"\nimport hexchat\n'
MISBEHAVING = {
    "hung": '''__module_name__ = "hung"
import hexchat
def spin(w, we, u):
    while True:
        pass
hexchat.hook_command("SPIN", spin)
''',
    "stopped": '__module_name__ = "stopped"\nimport hexchat\n',
    "flooder": '''__module_name__ = "flooder"
import hexchat, threading
def flood():
    while True:
        hexchat.prnt("flood")
hexchat.hook_command("FLOOD", lambda w, we, u: threading.Thread(target=flood, daemon=True).start() or 3)
''',
    "forker": '''__module_name__ = "forker"
import hexchat, os, time
def fork(w, we, u):
    if os.fork() == 0:
        time.sleep(1000)
    return 3
hexchat.hook_command("FORK", fork)
''',
}


def start_ms(client: EmulatedClient, path: str) -> float:
    t0 = time.perf_counter()
    script = client.load(path)
    took = (time.perf_counter() - t0) * 1000
    client.unload(script)
    return took


def shutdown_ms(misbehave: bool) -> float:
    client = EmulatedClient(deadline_ms=200)
    scripts = ([client.load(src) for src in MISBEHAVING.values()] if misbehave
               else [client.load(QUIET % i) for i in range(4)])
    if misbehave:
        client.type("/SPIN", "#test")
        client.type("/FLOOD", "#test")
        client.type("/FORK", "#test")
        os.kill(scripts[1].pid, signal.SIGSTOP)
    t0 = time.perf_counter()
    client.close()
    return (time.perf_counter() - t0) * 1000


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=os.path.join(HERE, "results", "lifecycle_times.json"))
    parser.add_argument("--repeat", type=int, default=5)
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="lifecycle-bench-")
    path = os.path.join(folder, "trivial.py")
    with open(path, "w") as f:
        f.write(QUIET % 0)
    samples: Dict[str, List[float]] = {"worker start (load -> running)": [],
                                       "quit, 4 well-behaved scripts": [],
                                       "quit, hung + stopped + flooding + forked": []}
    with EmulatedClient(folder) as client:
        for _ in range(args.repeat):  # interleaved rounds: the same machine load for each
            samples["worker start (load -> running)"].append(start_ms(client, path))
            samples["quit, 4 well-behaved scripts"].append(shutdown_ms(False))
            samples["quit, hung + stopped + flooding + forked"].append(shutdown_ms(True))
    results = {name: {"ms": values, "median_ms": statistics.median(values)}
               for name, values in samples.items()}
    print(f"{'measure':<44} {'median ms':>10}  rounds")
    for name, r in results.items():
        print(f"{name:<44} {r['median_ms']:>10.1f}  " + " / ".join(f"{v:.0f}" for v in r["ms"]))
    write_results(args.json, results, argv, "benchmarks/lifecycle_times.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
