"""Measuring tools shared by the benchmarks (``benchmarks/``).

They live in the package because one of them must run *inside* HexChat
(through the e2e control channel) and the spawned echo worker needs an
importable entry point. Nothing in the runtime uses this module.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any, Callable, Dict, List, Optional


def percentiles(samples_ns: List[int]) -> Dict[str, float]:
    s = sorted(samples_ns)
    return {"n": len(s), "median_us": statistics.median(s) / 1000,
            "p99_us": s[min(len(s) - 1, int(len(s) * 0.99))] / 1000,
            "mean_us": statistics.fmean(s) / 1000}


def time_each(fn: Callable[[], object], n: int, warmup: int = 200) -> List[int]:
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def echo(conn: Any) -> None:
    """Spawned floor worker: answer every message with itself."""
    while True:
        data = conn.recv_bytes()
        if data == b"stop":
            return
        conn.send_bytes(data)


def pipe_floor(n: int, python: Optional[str] = None) -> Dict[str, float]:
    """Percentiles of :func:`pipe_floor_samples`."""
    return percentiles(pipe_floor_samples(n, python))


def pipe_floor_samples(n: int, python: Optional[str] = None, cpu: Optional[int] = None) -> List[int]:
    """Round trip of ~60-byte messages to a spawned process over the same
    kind of pipe the sandbox uses: the least a synchronous hook can cost.
    ``cpu``: pin the spawned process to that CPU (benchmarks/wait_primitives.py)."""
    import multiprocess

    ctx = multiprocess.get_context("spawn")
    if python:
        ctx.set_executable(python)
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=echo, args=(child,), daemon=True, name="hexsandbox:bench-echo")
    proc.start()
    child.close()
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    payload = b"\x80\x05" + b"x" * 60

    def ping() -> None:
        parent.send_bytes(payload)
        parent.recv_bytes()

    try:
        return time_each(ping, n)
    finally:
        parent.send_bytes(b"stop")
        proc.join(5)


def sandboxed_hook(sandbox: Any, script_name: str, hook_name: str, n: int) -> Dict[str, float]:
    """Percentiles of :func:`sandboxed_hook_samples`."""
    return percentiles(sandboxed_hook_samples(sandbox, script_name, hook_name, n))


def sandboxed_hook_call(sandbox: Any, script_name: str, hook_name: str) -> Callable[[], int]:
    """One call of a sandboxed script's hook, the way HexChat calls it
    (through the client's forwarding hook), on the main thread."""
    script = sandbox.find(script_name)
    hook_id = script.hook_id(hook_name)
    word, word_eol = ["alice", "hello world"], ["alice hello world", "hello world"]
    return lambda: sandbox.call_hook(script, hook_id, word, word_eol, 0)


def sandboxed_hook_samples(sandbox: Any, script_name: str, hook_name: str, n: int) -> List[int]:
    """Round trip of one of a sandboxed script's hooks (:func:`sandboxed_hook_call`)."""
    return time_each(sandboxed_hook_call(sandbox, script_name, hook_name), n)


def interleaved(measures: Dict[str, Callable[[int], List[int]]], n: int,
                rounds: int = 3) -> Dict[str, Dict[str, Any]]:
    """Run every measure ``rounds`` times in turn (n / rounds samples each
    time) and pool the samples.

    Why: on a virtual machine a cross-process wake-up costs ~8 us when both
    processes land on one vCPU and ~65 us when they do not, and which one a
    run gets drifts over seconds. Measured back to back, the floor and the
    hook could fall on different sides of that; interleaved, each gets its
    share of both, and the per-round medians show the drift."""
    per = max(1, n // rounds)
    samples: Dict[str, List[int]] = {name: [] for name in measures}
    round_medians: Dict[str, List[float]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            got = measure(per)
            samples[name].extend(got)
            round_medians[name].append(round(statistics.median(got) / 1000, 1))
    return {name: dict(percentiles(s), round_medians_us=round_medians[name])
            for name, s in samples.items()}


def burst_seconds(server: Any, messages: int, repeat: int, timeout: float = 120.0,
                  budget_s: float = 0.0) -> List[float]:
    """Seconds HexChat takes to take in ``messages`` channel PRIVMSGs written
    in one burst, ``repeat`` times: until the PONG to a PING written after
    the burst (HexChat handles server lines in order, so every message has
    been processed and its hooks run by then). ``server`` is the e2e
    harness's ScriptedServer (``burst`` and ``roundtrip``); ``timeout`` bounds
    each burst. With ``budget_s``, no new burst starts once the bursts so far
    took that long (one at least), so a slow mode does not make a run long."""
    times = []
    for r in range(repeat):
        lines = [f":user{i % 50}!u@example.org PRIVMSG #test :burst {r} message {i}" for i in range(messages)]
        t0 = time.perf_counter()
        server.burst(lines)
        server.roundtrip(timeout=timeout)
        times.append(time.perf_counter() - t0)
        if budget_s and sum(times) >= budget_s:
            break
    return times


def pss_kb(pid: int) -> Optional[int]:
    """Proportional set size of a process (``Pss:`` of /proc/PID/smaps_rollup,
    kB): shared pages count once over all the processes sharing them, so the
    PSS of a process tree adds up to what it really costs. None once the
    process is gone (or may not be read)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> Optional[float]:
    """CPU time (user + system) a process has used so far, from /proc/PID/stat;
    None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid: int) -> int:
    """Context switches (voluntary and not) of every thread of ``pid`` so
    far: each is a sleep and a wake-up, the costly part of a round trip."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if "ctxt_switches:" in line:  # voluntary_ and nonvoluntary_
                        total += int(line.split()[1])
        except OSError:
            pass  # the thread ended meanwhile
    return total


def switches_per_call(pids: Dict[str, int], fn: Callable[[], object], n: int) -> Dict[str, float]:
    """Context switches per call of ``fn``, per process named in ``pids``."""
    before = {name: context_switches(pid) for name, pid in pids.items()}
    for _ in range(n):
        fn()
    return {name: (context_switches(pid) - before[name]) / n for name, pid in pids.items()}


def write_results(path: str, results: Dict[str, Any], argv: List[str], script: str,
                  extra: Optional[Dict[str, Any]] = None) -> None:
    """Write a benchmark's results with the command that made them (and
    ``extra`` top-level figures that are not timings)."""
    import json
    import platform
    import sys

    meta = {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count(),
            "command": f"python {script} " + " ".join(argv)}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"meta": meta, "results": results, **(extra or {})}, f, indent=2)
    print(f"wrote {path}")


def measure_in_host(n: int = 5000) -> Dict[str, Dict[str, float]]:
    """Run inside HexChat (e2e control eval): floor and sandboxed hook, same run."""
    import hexsandbox.loader as loader

    host = loader.current_host()
    assert host is not None, "measure_in_host runs inside HexChat with hexsandbox loaded"
    sandbox = host.sandbox
    return interleaved({
        "raw pipe floor (in HexChat)": lambda k: pipe_floor_samples(k, sandbox.python),
        "sandboxed hook (in HexChat)":
            lambda k: sandboxed_hook_samples(sandbox, "bench", "print 'Channel Action'", k),
    }, n)


def print_table(results: Dict[str, Dict[str, Any]]) -> None:
    """The benchmarks' table: one row per measure, the round medians last."""
    width = max(len("measure"), *(len(name) for name in results)) + 2
    print(f"{'measure':<{width}} {'n':>6} {'median us':>10} {'p99 us':>9} {'mean us':>9}  round medians us")
    for name, r in results.items():
        rounds = " / ".join(f"{m:.1f}" for m in r["round_medians_us"])
        print(f"{name:<{width}} {r['n']:>6} {r['median_us']:>10.1f} {r['p99_us']:>9.1f} "
              f"{r['mean_us']:>9.1f}  {rounds}")


def bench_arguments(argv: List[str], doc: str, json_path: str,
                    more: Optional[Callable[[Any], None]] = None) -> Any:
    """The options every round-trip benchmark takes: --n, --rounds, --json
    (and what ``more(parser)`` adds)."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if more is not None:
        more(parser)
    parser.add_argument("--n", type=int, default=6000, help="samples per measure, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="measures taken in turn this many times")
    parser.add_argument("--json", default=json_path)
    return parser.parse_args(argv)
