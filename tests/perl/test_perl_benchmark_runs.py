"""benchmarks/perl_hook_roundtrip.py still runs and writes its JSON (figures
are recorded in docs/benchmarks.md, never asserted). Tiny sizes."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_perl_hook_roundtrip_runs(tmp_path):
    out = str(tmp_path / "p.json")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "perl_hook_roundtrip.py"),
                           "--n", "60", "--rounds", "2", "--json", out],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out) as f:
        data = json.load(f)
    assert set(data["results"]) == {"raw pipe floor", "python sandboxed hook", "perl sandboxed hook",
                                    "python hook + prnt", "perl hook + print",
                                    "python hook, spin 200 us", "perl hook, spin 200 us"}
    assert all(r["n"] == 60 and r["median_us"] > 0 for r in data["results"].values())
    assert "perl / python median" in proc.stdout
