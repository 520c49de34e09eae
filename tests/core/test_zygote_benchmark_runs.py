"""benchmarks/worker_start.py still runs and writes its JSON (its figures
are never asserted: docs/benchmarks.md has them). Tiny sizes."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_worker_start_benchmark_runs_both_modes(tmp_path):
    out = tmp_path / "w.json"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "worker_start.py"),
                           "--repeat", "2", "--workers", "3", "--json", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    assert data["meta"]["command"].startswith("python benchmarks/worker_start.py")
    results = data["results"]
    assert set(results) == {"spawn", "zygote"}
    assert results["spawn"]["workers' parent"] == "client"
    assert results["zygote"]["workers' parent"] == "zygote", "the zygote column is the zygote's"
    assert results["zygote"]["of which the zygote (MB)"] > 0
    assert results["spawn"]["PSS of 3 idle workers (MB)"] > 0
