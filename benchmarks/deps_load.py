"""Loading a script with a PEP 723 block: cold cache, warm cache, uv and pip,
beside a script without metadata, in one run.

Each load goes through the same code as inside HexChat
(``environments.service.Environments.load`` on the emulator's main thread,
then a real worker) and is timed from the load request until the script
reports loaded. "cold": a fresh ``XDG_CACHE_HOME``, so no environment and
empty uv/pip download caches (the package comes from the index). "warm": the
environment exists. Rows are measured in turn, ``--repeat`` rounds, medians.
"decide" is the part a warm load adds before the worker starts (read the
script, parse its block, read hexsandbox.ini, look the environment up).

Usage: python benchmarks/deps_load.py [--repeat 5] [--cold-repeat 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

from hexsandbox.benchtools import write_results
from hexsandbox.client import State
from hexsandbox.environments.prepare import forget_probes, quick
from hexsandbox.environments.service import Environments
from hexsandbox.testing import EmulatedClient

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "tomli-w"
WITH_BLOCK = f'''# /// script
# dependencies = ["{PACKAGE}"]
# ///
__module_name__ = "with_deps"
import hexchat, tomli_w
'''
PLAIN = '__module_name__ = "plain"\nimport hexchat, json\n'


def load_once(client: EmulatedClient, envs: Environments, path: str) -> float:
    """Seconds from the load request until the script runs (then unloads it)."""
    name = os.path.basename(path)
    t0 = time.perf_counter()
    envs.load(path, None, lambda python: client.sandbox.load(path, python=python))

    def running() -> bool:
        return any(os.path.basename(s.path) == name and s.state is State.RUNNING
                   for s in client.sandbox.scripts)

    client.wait_for(running, 600, f"{name} to load")
    elapsed = time.perf_counter() - t0
    script = next(s for s in client.sandbox.scripts if os.path.basename(s.path) == name)
    client.unload(script)
    return elapsed


def interpreter_start_ms(pythons: Dict[str, str], n: int) -> Dict[str, float]:
    """Median ms for each interpreter to start and import what a worker
    imports, measured in turn (the part of a load an environment can change)."""
    import subprocess

    code = "import hexsandbox.worker, multiprocess.connection"
    times: Dict[str, List[float]] = {label: [] for label in pythons}
    for _ in range(n):
        for label, python in pythons.items():
            t0 = time.perf_counter()
            subprocess.run([python, "-c", code], check=True, cwd="/")
            times[label].append(time.perf_counter() - t0)
    return {label: statistics.median(v) * 1000 for label, v in times.items()}


def decide_us(envs: Environments, path: str, n: int = 200) -> float:
    """Median microseconds of what a warm load does before spawning."""
    samples = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        ready = quick(envs.needs(path), sys.executable, None, envs.root)
        samples.append(time.perf_counter_ns() - t0)
        assert ready is not None and ready.env
    return statistics.median(samples) / 1000


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold-repeat", type=int, default=2)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "deps_load.json"))
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="deps-bench-")
    old_cache = os.environ.get("XDG_CACHE_HOME")
    samples: Dict[str, List[float]] = {}
    try:
        with EmulatedClient() as client:
            with_block = os.path.join(work, "with_deps.py")
            plain = os.path.join(work, "plain.py")
            for path, text in ((with_block, WITH_BLOCK), (plain, PLAIN)):
                with open(path, "w") as f:
                    f.write(text)
            roots = {inst: os.path.join(work, f"warm-{inst}") for inst in ("uv", "pip")}
            quiet = lambda text: None  # noqa: E731 - its lines are not what is measured
            envs = {inst: Environments(client.emu, client.config_dir, lambda: sys.executable, quiet,
                                       root=root)
                    for inst, root in roots.items()}
            plain_envs = envs["uv"]

            def cold(inst: str, round_no: int) -> float:
                os.environ["HEXSANDBOX_INSTALLER"] = inst
                os.environ["XDG_CACHE_HOME"] = os.path.join(work, f"cold-{inst}-{round_no}")
                forget_probes()  # a fresh HexChat has probed nothing either
                fresh = Environments(client.emu, client.config_dir, lambda: sys.executable, quiet)
                return load_once(client, fresh, with_block)

            def warm(inst: str) -> Callable[[], float]:
                return lambda: load_once(client, envs[inst], with_block)

            # The warm environments are built once first (with their installer).
            for inst in ("uv", "pip"):
                os.environ["HEXSANDBOX_INSTALLER"] = inst
                load_once(client, envs[inst], with_block)
            rows: Dict[str, Callable[[], float]] = {
                "no metadata": lambda: load_once(client, plain_envs, plain),
                "warm cache, uv-built": warm("uv"),
                "warm cache, pip-built": warm("pip"),
            }
            load_once(client, plain_envs, plain)  # the first worker start pays imports
            for r in range(args.repeat):
                for label, run in rows.items():
                    samples.setdefault(label, []).append(run())
                if r < args.cold_repeat:
                    for inst in ("uv", "pip"):
                        samples.setdefault(f"cold cache, {inst}", []).append(cold(inst, r))
            decide = decide_us(envs["uv"], with_block)
            starts = interpreter_start_ms({
                "no metadata": sys.executable,
                "warm cache, uv-built": quick(envs["uv"].needs(with_block), sys.executable, None,
                                              envs["uv"].root).python,
                "warm cache, pip-built": quick(envs["pip"].needs(with_block), sys.executable, None,
                                               envs["pip"].root).python}, max(3, args.repeat * 2))
    finally:
        if old_cache is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = old_cache
        shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(samples["no metadata"])
    base_min = min(samples["no metadata"])
    results = {}
    print(f"{'load':<26}{'median ms':>11}{'vs no metadata':>16}{'min ms':>9}{'vs no metadata':>16}")
    for label, values in samples.items():
        med, low = statistics.median(values), min(values)
        results[label] = {"median_ms": round(med * 1000, 1), "extra_ms": round((med - base) * 1000, 1),
                          "min_ms": round(low * 1000, 1), "extra_min_ms": round((low - base_min) * 1000, 1),
                          "runs_ms": [round(v * 1000, 1) for v in values]}
        print(f"{label:<26}{med * 1000:>11.1f}{(med - base) * 1000:>+16.1f}"
              f"{low * 1000:>9.1f}{(low - base_min) * 1000:>+16.1f}")
    results["decide (warm, before spawn)"] = {"median_us": round(decide, 1)}
    print(f"decide (warm, before spawn): {decide:.1f} us median")
    results["worker interpreter start"] = {k: round(v, 1) for k, v in starts.items()}
    print("worker interpreter start + imports, median ms: "
          + ", ".join(f"{k} {v:.1f}" for k, v in starts.items()))
    write_results(args.json, results, argv, "benchmarks/deps_load.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
