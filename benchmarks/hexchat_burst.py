"""Inside real HexChat: a 5,000-message burst, and the synchronous hook round trip.

One run measures, on this machine:

1. HexChat's time to take in 5,000 channel PRIVMSGs written by a scripted IRC
   server in one burst (timed until the PONG to a PING written after the
   burst), with no script, with one trivial in-process ``hook_print('Channel
   Message')`` returning EAT_NONE, and with the same script sandboxed (spin_us
   = 0, and again with spin_us = 200: see hexsandbox/spinwait.py);
   median of ``--repeat`` bursts each, and the ratios;
2. inside HexChat (through the e2e control channel, on HexChat's main
   thread): the raw pipe ping-pong floor to a spawned process next to the
   sandboxed hook round trip.

Needs the e2e machine setup (``scripts/setup-system.sh``; run as root or with
passwordless sudo). Usage:
    python benchmarks/hexchat_burst.py [--messages 5000] [--repeat 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from harness import ScriptedServer, Xvfb  # noqa: E402
from sandbox_support import SandboxedHexChat, build_sandbox_env  # noqa: E402

from hexsandbox.benchtools import burst_seconds, write_results  # noqa: E402

HOOK = '''
__module_name__ = "bench"
import hexchat
def on_message(word, word_eol, userdata):
    return hexchat.EAT_NONE
def on_action(word, word_eol, userdata):
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", on_message)
hexchat.hook_print("Channel Action", on_action)
'''


#: spin_us is pinned in each sandboxed mode, so the figures do not depend on
#: this machine's CPU count (the default is off below 4 CPUs).
MODES = ("no script", "in-process hook", "sandboxed hook", "sandboxed hook, spin 200 us")


def run_mode(xvfb: Xvfb, env, mode: str, messages: int, repeat: int, n_roundtrip: int) -> Dict:
    server = ScriptedServer().start()
    try:
        kwargs = {"env": env}
        sandboxed = mode.startswith("sandboxed hook")
        if mode == "in-process hook":
            kwargs["scripts"] = {"bench.py": HOOK}
        elif sandboxed:
            kwargs["sandbox_scripts"] = {"bench.py": HOOK}
            kwargs["sandbox_ini"] = "[defaults]\nspin_us = %d\n" % (200 if "spin" in mode else 0)
        hc = SandboxedHexChat(xvfb, server.host, server.port, channel="#test", **kwargs).start()
        try:
            if sandboxed:
                hc.wait_running("bench")
            server.roundtrip()
            times = burst_seconds(server, messages, repeat)
            result = {"seconds": times, "median_s": statistics.median(times)}
            if sandboxed:
                result["in_host"] = hc.eval(
                    f"import hexsandbox.benchtools as _b\nresult = _b.measure_in_host({n_roundtrip})",
                    timeout=300)
            return result
        finally:
            hc.stop()
    finally:
        server.stop()


def main(argv: List[str] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--roundtrips", type=int, default=5000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "hexchat_burst.json"))
    args = parser.parse_args(argv)

    env = build_sandbox_env()
    xvfb = Xvfb().start()
    results: Dict[str, Dict] = {}
    try:
        for mode in MODES:
            results[mode] = run_mode(xvfb, env, mode, args.messages, args.repeat, args.roundtrips)
    finally:
        xvfb.stop()

    base = results["no script"]["median_s"]
    print(f"HexChat 2.16 taking in {args.messages} channel messages (median of {args.repeat} bursts)")
    print(f"{'mode':<30} {'median s':>9} {'vs none':>8} {'per msg us':>11}")
    for mode in MODES:
        m = results[mode]["median_s"]
        print(f"{mode:<30} {m:>9.3f} {m / base:>7.2f}x {m / args.messages * 1e6:>11.1f}")
    extra = (results["sandboxed hook"]["median_s"] - results["in-process hook"]["median_s"]) / args.messages
    print(f"sandboxed hook costs {extra * 1e6:.1f} us more per message than the in-process hook")
    print()
    print(f"{'inside HexChat (main thread)':<44} {'n':>6} {'median us':>10} {'p99 us':>8}  round medians us")
    for mode in ("sandboxed hook", "sandboxed hook, spin 200 us"):
        for name, r in results[mode]["in_host"].items():
            if "spin" in mode and "floor" in name:
                continue  # the same blocking floor again; the first run's is the reference
            rounds = " / ".join(f"{m:.1f}" for m in r.get("round_medians_us", []))
            label = name + (", spin 200 us" if "spin" in mode else "")
            print(f"{label:<44} {r['n']:>6} {r['median_us']:>10.1f} {r['p99_us']:>8.1f}  {rounds}")
    write_results(args.json, results, argv, "benchmarks/hexchat_burst.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
