"""The benchmarks still run and write their JSON (their figures are not
asserted: speed is measured in docs/benchmarks.md, never in tests). Tiny
sizes: this only guards against the benchmark scripts rotting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(script: str, args: list, out: str) -> dict:
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", script), *args, "--json", out],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out) as f:
        return json.load(f)


def test_hook_roundtrip_runs_interleaved(tmp_path):
    data = _run("hook_roundtrip.py", ["--n", "60", "--rounds", "2"], str(tmp_path / "r.json"))
    results = data["results"]
    assert set(results) == {"raw pipe floor", "in-process hook", "sandboxed hook", "sandboxed hook + prnt",
                            "sandboxed hook, spin 200 us", "... + prnt, spin 200 us"}
    for r in results.values():
        assert r["n"] == 60 and len(r["round_medians_us"]) == 2 and r["median_us"] > 0
    assert data["meta"]["command"].startswith("python benchmarks/hook_roundtrip.py")
    switches = data["context_switches_per_hook"]
    assert set(switches) == {"HexChat side", "worker"}
    assert all(count >= 0.5 for count in switches.values()), "each side sleeps on its socket"


@pytest.mark.usefixtures("e2e_system")
def test_hexchat_burst_runs(tmp_path):
    data = _run("hexchat_burst.py", ["--messages", "50", "--repeat", "1", "--roundtrips", "40"],
                str(tmp_path / "b.json"))
    results = data["results"]
    assert set(results) == {"no script", "in-process hook", "sandboxed hook", "sandboxed hook, spin 200 us"}
    in_host = results["sandboxed hook"]["in_host"]
    assert set(in_host) == {"raw pipe floor (in HexChat)", "sandboxed hook (in HexChat)"}
    assert all(r["n"] == 39 and len(r["round_medians_us"]) == 3 for r in in_host.values())


def test_wait_primitives_runs_interleaved(tmp_path):
    data = _run("wait_primitives.py", ["--n", "60", "--rounds", "2"], str(tmp_path / "w.json"))
    results = data["results"]
    assert set(results) == {"raw pipe floor"} | {f"{size}, ends wait in {how}"
                                                 for size in ("60 bytes", "hook-sized msgpack")
                                                 for how in ("recv", "poll", "epoll")}
    for r in results.values():
        assert r["n"] == 60 and len(r["round_medians_us"]) == 2 and r["median_us"] > 0
    if len(os.sched_getaffinity(0)) >= 2:
        pinned = _run("wait_primitives.py", ["--n", "60", "--rounds", "2", "--pin", "cross"],
                      str(tmp_path / "p.json"))
        assert set(pinned["results"]) == set(results) | {"sandboxed hook"}
        assert "--pin cross" in pinned["meta"]["command"]


def test_codec_benchmark_runs(tmp_path):
    data = _run("codec.py", ["--n", "50"], str(tmp_path / "c.json"))
    results = data["results"]
    pairs = [k for k in results if " / " in k]
    assert len(pairs) == 6 and all(results[k]["bytes"] > 0 for k in pairs)
    assert len([k for k in results if k.startswith("worst case")]) == 4


@pytest.mark.usefixtures("e2e_system")
def test_hexchat_scale_runs(tmp_path):
    data = _run("hexchat_scale.py", ["--sizes", "1,2", "--messages", "50", "--repeat", "1"],
                str(tmp_path / "s.json"))
    results = data["results"]
    modes = ("in process", "sandboxed", "sandboxed, async hooks")
    assert set(results) == {"HexChat alone, 0 scripts"} | {f"{m}, {n} scripts" for m in modes for n in (1, 2)}
    for r in results.values():
        # The probe loaded first, and saw the scripts load after it.
        assert r["autoload_order"][0].startswith("mainloop_probe")
        assert r["loaded_ms"] >= (r["last_load_print_ms"] or 0) >= 0 and r["ticks"] >= 1
        if r["mode"] in ("HexChat alone", "in process"):
            assert r["processes"] == 1, r
        else:  # HexChat, a worker per script, and whatever else the sandbox runs
            assert r["processes"] >= r["scripts"] + 1, r
    assert all(results[f"{m}, 2 scripts"]["start_line"].endswith("2 scripts sandboxed (scale01, scale02); "
                                                                 "/sandbox help") for m in modes[1:])
