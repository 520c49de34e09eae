"""benchmarks/deps_load.py still runs and writes its JSON (figures are never
asserted: they are recorded in docs/benchmarks.md)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_deps_load_benchmark_runs(tmp_path, cold_cache):
    out = tmp_path / "d.json"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "deps_load.py"), "--repeat", "1",
                           "--cold-repeat", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"no metadata", "warm cache, uv-built", "warm cache, pip-built",
                            "cold cache, uv", "cold cache, pip", "decide (warm, before spawn)",
                            "worker interpreter start"}
    assert all(r["median_ms"] > 0 for k, r in results.items() if "median_ms" in r)
    assert set(results["worker interpreter start"]) == {"no metadata", "warm cache, uv-built",
                                                       "warm cache, pip-built"}
