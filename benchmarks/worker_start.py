"""Worker start and memory: spawn per worker against the zygote, in one run.

Measures, for each start mode (``spawning.start_mode``), on the emulator:

* **one worker ready**: ``spawning.start_worker`` until the worker's first
  message (its ``loading`` note, sent just before the script's top level
  runs) is readable on HexChat's end of the pipe; median of ``--repeat``,
  with a warm zygote. Also the time the call itself takes (what HexChat's
  main thread spends), and the first worker of a cold zygote (its boot
  included: that first call waits for the zygote to be ready);
* **30 workers loaded**: 30 trivial scripts loaded through a Sandbox until
  every one is running;
* **PSS of 30 idle workers**: the sum of ``/proc/PID/smaps_rollup`` Pss over
  those 30 workers, the zygote's own PSS included in the zygote column (it
  is memory the zygote mode costs).

Usage: python benchmarks/worker_start.py [--repeat 20] [--workers 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import sys
import time
from typing import Any, Dict, List, Optional

from hexsandbox import spawning
from hexsandbox.benchtools import write_results
from hexsandbox.testing import EmulatedClient

HERE = os.path.dirname(os.path.abspath(__file__))
TRIVIAL = '__module_name__ = "trivial%d"\nimport hexchat\n'


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def one_ready(mode: str, path: str, runtime_dir: str) -> Dict[str, float]:
    """(call ms, ready ms) of one start_worker."""
    t0 = time.perf_counter()
    started = spawning.start_worker(path, context=None, python=None, runtime_dir=runtime_dir,
                                    start=mode)
    t1 = time.perf_counter()
    ready = select.select([started.conn.fileno()], [], [], 30)[0]
    t2 = time.perf_counter()
    assert ready, "the worker said nothing within 30 s"
    spawning.kill(started)
    spawning.ended(started)
    started.conn.close()
    return {"call_ms": (t1 - t0) * 1000, "ready_ms": (t2 - t0) * 1000}


def measure(mode: str, repeat: int, workers: int, folder: str) -> Dict[str, Any]:
    os.environ[spawning.START_ENV] = mode
    client = EmulatedClient(deadline_ms=10000)
    try:
        path = os.path.join(folder, "one.py")
        with open(path, "w") as f:
            f.write(TRIVIAL % 0)
        runtime_dir = spawning.private_runtime_dir()
        cold = one_ready(mode, path, runtime_dir)
        rounds = [one_ready(mode, path, runtime_dir) for _ in range(repeat)]
        paths = []
        for i in range(workers):
            paths.append(os.path.join(folder, f"trivial{i}.py"))
            with open(paths[-1], "w") as f:
                f.write(TRIVIAL % i)
        t0 = time.perf_counter()
        scripts = [client.load(p, wait=False) for p in paths]
        client.wait_for(lambda: all(s.state.name == "RUNNING" for s in scripts), 120,
                        f"{workers} scripts to load")
        loaded_s = time.perf_counter() - t0
        # No settle() barrier: it ships a function in with cloudpickle, an
        # import no real worker makes, which would dirty ~5 MB in each.
        zygote: Optional[int] = spawning.zygote_pid() if mode == "zygote" else None
        worker_pss = sum(pss_kb(s.pid) for s in scripts if s.pid)
        zygote_pss = pss_kb(zygote) if zygote else 0
        parents = {_ppid(s.pid) for s in scripts if s.pid}
        return {
            "one worker ready, cold (ms)": round(cold["ready_ms"], 1),
            "start_worker call, cold (ms)": round(cold["call_ms"], 1),
            "one worker ready (ms, median)": round(statistics.median(r["ready_ms"] for r in rounds), 1),
            "start_worker call (ms, median)": round(statistics.median(r["call_ms"] for r in rounds), 2),
            f"{workers} workers loaded (s)": round(loaded_s, 3),
            f"PSS of {workers} idle workers (MB)": round((worker_pss + zygote_pss) / 1024, 1),
            "of which the zygote (MB)": round(zygote_pss / 1024, 1),
            "workers' parent": "zygote" if parents == {zygote} else "client",
        }
    finally:
        client.sandbox.shutdown()


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workers", type=int, default=30)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "worker_start.json"))
    args = parser.parse_args(argv)
    import tempfile

    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hexsandbox-bench-") as folder:
        for mode in spawning.START_MODES[::-1]:  # spawn, then zygote
            results[mode] = measure(mode, args.repeat, args.workers, folder)
    rows = list(results["spawn"])
    width = max(len(r) for r in rows) + 2
    print(f"{'measure':<{width}} {'spawn':>10} {'zygote':>10}")
    for row in rows:
        print(f"{row:<{width}} {results['spawn'][row]!s:>10} {results['zygote'][row]!s:>10}")
    write_results(args.json, results, argv, "benchmarks/worker_start.py")


if __name__ == "__main__":
    main(sys.argv[1:])
