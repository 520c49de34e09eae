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
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List

import multiprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def _percentiles(samples_ns: List[int]) -> Dict[str, float]:
    s = sorted(samples_ns)
    return {
        "n": len(s),
        "median_us": statistics.median(s) / 1000,
        "p99_us": s[min(len(s) - 1, int(len(s) * 0.99))] / 1000,
        "mean_us": statistics.fmean(s) / 1000,
    }


def _time_each(fn: Callable[[], object], n: int, warmup: int = 200) -> List[int]:
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def _echo(conn) -> None:  # runs in the spawned floor worker
    while True:
        data = conn.recv_bytes()
        if data == b"stop":
            return
        conn.send_bytes(data)


def raw_pipe_floor(n: int) -> Dict[str, float]:
    ctx = multiprocess.get_context("spawn")
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=_echo, args=(child,), daemon=True)
    proc.start()
    payload = b"\x80\x05" + b"x" * 60  # about the size of an encoded hook CALL

    def ping() -> None:
        parent.send_bytes(payload)
        parent.recv_bytes()

    samples = _time_each(ping, n)
    parent.send_bytes(b"stop")
    proc.join(5)
    return _percentiles(samples)


def in_process_hook(n: int) -> Dict[str, float]:
    from hexsandbox.emulator import Emulator

    emu = Emulator(config_dir=tempfile.mkdtemp(prefix="bench-"))
    emu.connect()
    emu.join("#bench", users=["alice"])

    def callback(word, word_eol, server_time):
        return 0

    hook = emu.hook_print("Channel Message", 0, callback, False)
    word, word_eol = ["alice", "hello world", "", ""], ["alice hello world", "hello world", "", ""]
    samples = _time_each(lambda: hook.callback(word, word_eol, 0), n)
    return _percentiles(samples)


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
    from hexsandbox.testing import EmulatedClient

    client = EmulatedClient(deadline_ms=5000)
    try:
        script = client.load(SCRIPT)
        by_name = {name: hook_id for hook_id, name in script.hook_names.items()}
        quiet_id = by_name["print 'Channel Message'"]
        chatty_id = by_name["print 'Channel Action'"]
        sb = client.sandbox
        word, word_eol = ["alice", "hello world"], ["alice hello world", "hello world"]
        quiet = _time_each(lambda: sb._call_hook(script, quiet_id, word, word_eol, 0), n)
        chatty = _time_each(lambda: sb._call_hook(script, chatty_id, word, word_eol, 0), n)
        return {"sandboxed hook": _percentiles(quiet), "sandboxed hook + prnt": _percentiles(chatty)}
    finally:
        client.close()


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "hook_roundtrip.json"))
    args = parser.parse_args(argv)

    results: Dict[str, Dict[str, float]] = {}
    results["raw pipe floor"] = raw_pipe_floor(args.n)
    results["in-process hook"] = in_process_hook(args.n)
    results.update(sandboxed_hooks(args.n))

    print(f"{'measure':<24} {'n':>6} {'median us':>10} {'p99 us':>9} {'mean us':>9}")
    for name, r in results.items():
        print(f"{name:<24} {r['n']:>6} {r['median_us']:>10.1f} {r['p99_us']:>9.1f} {r['mean_us']:>9.1f}")
    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count(),
            "command": "python benchmarks/hook_roundtrip.py " + " ".join(argv or sys.argv[1:])}
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=2)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
