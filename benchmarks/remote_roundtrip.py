"""External application vs sandboxed worker: hook round trip and one-way commands.

Both peers are served by the same emulated HexChat and Sandbox in one run:

* ``worker``: a sandboxed script in a spawned worker (socketpair);
* ``external app``: a separate Python process connected to the local API's
  Unix socket (hexsandbox.remote.connect), admitted by the same endpoint
  and handshake as in HexChat (the emulator's allow-all double).

Measures:

* hook round trip: HexChat calls the peer's ``hook_print`` callback the way
  it calls any hook (``Sandbox.call_hook``, on the main thread) and waits
  for its eat value; taken in interleaved rounds (benchtools.interleaved);
* one-way command throughput: the peer sends ``--commands`` ``command()``
  calls from a thread of its own (one-way, windowed), and the main loop
  runs them; the time from the trigger to the last one run (median of
  ``--rounds`` bursts, taken in turn).

Usage: python benchmarks/remote_roundtrip.py [--n 4000] [--rounds 3] [--commands 5000] [--json FILE]
Prints a table and writes JSON (default benchmarks/results/remote_roundtrip.json).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

from hexsandbox.benchtools import interleaved, print_table, sandboxed_hook_samples, write_results

HERE = os.path.dirname(os.path.abspath(__file__))

#: The same peer twice: as a sandboxed script and as an external app. Each
#: answers Channel Message with EAT_NONE, and BENCHGO_<KIND> N makes a thread
#: of its own send N one-way commands.
PEER = '''
import sys, threading
{setup}
def quiet(word, word_eol, userdata):
    return hc.EAT_NONE
def go(word, word_eol, userdata):
    n = int(word[1])
    threading.Thread(target=lambda: [hc.command("benchcount") for _ in range(n)]).start()
    return hc.EAT_ALL
hc.hook_print("Channel Message", quiet)
hc.hook_command("BENCHGO_{kind}", go)
{run}
'''
WORKER = PEER.format(setup='__module_name__ = "benchworker"\nimport hexchat as hc', kind="WORKER", run="")
APP = PEER.format(setup='import hexsandbox.remote\n'
                        'hc = hexsandbox.remote.connect("benchapp", socket_path=sys.argv[1], remember=False)',
                  kind="APP", run="hc.run()")


def throughput(client, command: str, n: int) -> float:
    """Seconds from typing ``command n`` to the n-th one-way command run."""
    counted = [0]

    def count(word, word_eol, server_time):
        counted[0] += 1
        return 3

    hook = client.emu.hook_command("BENCHCOUNT", 0, None, count)
    try:
        t0 = time.perf_counter()
        client.emu.type(f"/{command} {n}")
        client.emu.run_until(lambda: counted[0] >= n, timeout=120)
        return time.perf_counter() - t0
    finally:
        client.emu.unhook(hook)


def main(argv: List[str] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000, help="hook samples per peer, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--commands", type=int, default=5000, help="one-way commands per peer")
    parser.add_argument("--json", default=os.path.join(HERE, "results", "remote_roundtrip.json"))
    args = parser.parse_args(argv)

    from hexsandbox.remote.allowlist import AllowAll
    from hexsandbox.remote.service import RemoteService
    from hexsandbox.testing import EmulatedClient

    client = EmulatedClient(deadline_ms=5000, spin_us=0)
    folder = tempfile.mkdtemp(prefix="hexsandbox-bench-remote-")
    service = RemoteService(client.sandbox, AllowAll(), os.path.join(folder, "api.sock"))
    app_file = os.path.join(folder, "app.py")
    with open(app_file, "w") as f:
        f.write(APP)
    app = subprocess.Popen([sys.executable, app_file, service.socket_path])
    try:
        client.load(WORKER)
        sb = client.sandbox
        client.emu.run_until(lambda: (sb.find("benchapp") is not None
                                      and len(sb.find("benchapp").backend_hooks) == 2), timeout=30)
        results: Dict[str, Dict] = interleaved({
            "hook round trip, worker": lambda k: sandboxed_hook_samples(
                sb, "benchworker", "print 'Channel Message'", k),
            "hook round trip, external app": lambda k: sandboxed_hook_samples(
                sb, "benchapp", "print 'Channel Message'", k),
        }, args.n, args.rounds)
        # In turn too, --rounds times: a loaded machine's scheduling and the
        # sandbox's flood rest make one burst's time vary a lot.
        rounds: Dict[str, List[float]] = {"worker": [], "external app": []}
        for _ in range(args.rounds):
            for label, command in (("worker", "benchgo_worker"), ("external app", "benchgo_app")):
                rounds[label].append(throughput(client, command, args.commands))
        for label, times in rounds.items():
            seconds = statistics.median(times)
            results[f"one-way commands, {label}"] = {
                "n": args.commands, "seconds": seconds, "per_second": args.commands / seconds,
                "us_each": seconds / args.commands * 1e6, "round_seconds": times}
    finally:
        service.close()
        app.terminate()
        app.wait(10)
        client.close()

    write_results(args.json, results, argv, "benchmarks/remote_roundtrip.py")
    print_table({name: r for name, r in results.items() if "median_us" in r})
    print(f"{'one-way burst':<34} {'n':>6} {'median s':>10} {'per s':>9} {'us each':>8}  round seconds")
    for name, r in results.items():
        if "per_second" in r:
            each = " / ".join(f"{t:.3f}" for t in r["round_seconds"])
            print(f"{name:<34} {r['n']:>6} {r['seconds']:>10.3f} {r['per_second']:>9.0f} "
                  f"{r['us_each']:>8.1f}  {each}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
