"""How long ``hexsandbox check`` takes on scripts/examples, with -n 1 and -n 2.

Both runs in one go on the same machine, taken in turn; each is the wall
time of the whole command (start-up included: ``hexsandbox check`` runs
pytest in process for ``-n 1`` and pytest-xdist workers for ``-n 2``),
median of ``--repeat`` runs. The verdicts of the
two runs must agree (same JSON apart from timings), or the benchmark fails.

Usage: python benchmarks/check_time.py [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

from hexsandbox.benchtools import write_results

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "scripts", "examples")


def run_check(workers: int, out_json: str) -> float:
    exe = os.path.join(os.path.dirname(sys.executable), "hexsandbox")
    t0 = time.perf_counter()
    done = subprocess.run([exe, "check", EXAMPLES, "-n", str(workers), "--json", out_json],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          timeout=600)
    elapsed = time.perf_counter() - t0
    if done.returncode not in (0, 1):  # 1 = some scripts failed, as the examples are meant to
        raise SystemExit(f"hexsandbox check -n {workers} exited {done.returncode}")
    return elapsed


def verdicts(path: str) -> Dict[str, str]:
    with open(path) as f:
        data = json.load(f)
    rows = data if isinstance(data, list) else data.get("results", [])
    return {os.path.basename(r.get("path", r.get("script", ""))): r.get("verdict") for r in rows}


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "check_time.json"))
    args = parser.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="check-bench-")
    results: Dict[str, Any] = {}
    seen: Dict[int, Dict[str, str]] = {}
    times: Dict[int, List[float]] = {1: [], 2: []}
    for run in range(args.repeat):  # in turn, so a busy spell of the machine hits both
        for workers in (1, 2):
            out = os.path.join(tmp, f"n{workers}-{run}.json")
            times[workers].append(run_check(workers, out))
            got = verdicts(out)
            if seen.setdefault(workers, got) != got:
                raise SystemExit(f"verdicts of -n {workers} differ between runs: {seen[workers]} vs {got}")
    for workers in (1, 2):
        results[f"-n {workers}"] = {"seconds": times[workers],
                                    "median_s": statistics.median(times[workers]),
                                    "best_s": min(times[workers]),
                                    "scripts": len(seen[workers])}
    if seen[1] != seen[2]:
        raise SystemExit(f"verdicts differ between -n 1 and -n 2: {seen[1]} vs {seen[2]}")

    print(f"hexsandbox check on scripts/examples ({results['-n 1']['scripts']} scripts), "
          f"median of {args.repeat}")
    # Best of the runs too: on a shared machine it is the one least disturbed.
    print(f"{'run':<6} {'median s':>9} {'best s':>7}")
    for name, row in results.items():
        print(f"{name:<6} {row['median_s']:>9.2f} {row['best_s']:>7.2f}")
    results["verdicts"] = seen[1]
    write_results(args.json, results, argv, "benchmarks/check_time.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
