"""Inside real HexChat: 1, 10 and 30 scripts, in process, sandboxed, and sandboxed with async hooks.

Each script hooks "Channel Message" (returning EAT_NONE, nothing else) and
prints ``scalebench: NAME loaded`` at the end of its top level. For each
number of scripts N and each mode, one fresh HexChat (under Xvfb, as the
unprivileged e2e user, against the scripted IRC server on loopback) runs
them:

* ``in process``: the scripts in ``addons/``, autoloaded by HexChat's own
  Python plugin (no hexsandbox installed);
* ``sandboxed``: the scripts in ``<configdir>/sandbox/``, autoloaded by the
  hexsandbox loader, default settings (spin off below 4 CPUs);
* ``sandboxed, async hooks``: the same with ``[script:NAME] hooks = async``
  for each in hexsandbox.ini.

A first row, ``HexChat alone`` (N = 0, no script), shows what HexChat's own
start-up costs in the same run. Measured for each:

* **loaded**: from the start of the Python plugin's autoload (the probe's
  load, below; the loader is autoloaded right after it, so this is also
  the loader's start) until the scripts are loaded: in process, the last
  load print; sandboxed, the loader's start line (printed once autoload has
  settled, ``hexsandbox/loader.py`` ``start_line``; it is looked for only
  every 50 ms). ``from exec`` is the same moment from HexChat's exec.
  ``last print`` is the last load print in every mode.
* **PSS**: HexChat and every process it started (workers, a zygote, the
  group watchdog), the ``Pss:`` of /proc/PID/smaps_rollup added up, once
  the scripts are loaded and idle;
* **burst**: HexChat taking in 5,000 channel messages written in one burst,
  until the PONG to a PING written after it (as benchmarks/hexchat_burst.py
  times it), median of ``--repeat`` (fewer once the bursts of one HexChat
  took ``--burst-budget`` seconds: 30 synchronous scripts take a minute
  each); ``vs in process`` divides by the in-process
  row of the same N; ``cpu s`` is HexChat's own CPU time per burst (a
  burst much longer than that was HexChat waiting, or waiting for a CPU).
  Async scripts get their events without HexChat waiting, so their workers
  may still be working through them when the PONG comes; ``missed`` counts
  events the sandbox dropped (a worker that stopped reading);
* **gaps**: the longest main-loop gap during start-up, and the total time
  the main thread was blocked (over the gaps of at least 20 ms, the time
  past the 5 ms interval), from the probe's load until the first tick after
  "loaded".

The gaps come from ``benchmarks/mainloop_probe.py``, a tiny in-process
Python addon with a 5 ms ``hook_timer`` (its own load counts as the first
tick). It must load before the hexsandbox loader (and before in-process
scripts) to see their start-up, and HexChat's Python plugin autoloads
``addons/*.py`` in ``os.listdir`` order (hash order on ext4), not sorted: so
the harness renames the probe until ``os.listdir`` lists it first
(``tests/e2e/harness/addon_order.py``; nothing changes ``addons/`` between that
and HexChat's own listing), and the probe checks at load that it was first
and that ``hexsandbox.loader`` was not imported yet; the benchmark stops if
not. The probe sends its record over a unix socket when it is done, so the
benchmark does not talk to HexChat during the measured start-up (the
harness's start waits for its control channel and the channel join, one
request each).

Needs the e2e machine setup (``scripts/setup-system.sh``; run as root or with
passwordless sudo). Usage:
    python benchmarks/hexchat_scale.py [--sizes 1,10,30] [--repeat 3] [--burst-budget 60]
                                       [--messages 5000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from harness import HexChat, ScriptedServer, Xvfb  # noqa: E402
from harness.procs import descendants  # noqa: E402
from sandbox_support import SandboxEnv, SandboxedHexChat, build_sandbox_env  # noqa: E402

from hexsandbox.benchtools import burst_seconds, cpu_seconds, pss_kb, write_results  # noqa: E402

ALONE, IN_PROCESS, SANDBOXED, ASYNC = "HexChat alone", "in process", "sandboxed", "sandboxed, async hooks"
MODES = (IN_PROCESS, SANDBOXED, ASYNC)

SCRIPT = '''
__module_name__ = "{name}"
import hexchat
def on_message(word, word_eol, userdata):
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", on_message)
hexchat.prnt("scalebench: {name} loaded")
'''

PROBE_FILE = "mainloop_probe.py"
PROBE_SETTINGS = {"interval_ms": 5, "stall_ms": 20, "limit_s": 90}


class ProbeListener:
    """The unix socket each HexChat's probe sends its one record to."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="hexsandbox-scale-", dir="/tmp")
        os.chmod(self.folder, 0o711)  # the e2e user may reach the socket, not list the folder
        self.path = os.path.join(self.folder, "probe.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(4)
        self.sock.settimeout(1.0)

    def receive(self, hc: HexChat, timeout: float) -> Dict[str, Any]:
        """The record of ``hc``'s probe (bounded; stops early if HexChat died)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                if not hc.is_running():
                    raise RuntimeError(f"HexChat died before its probe reported:\n{hc.output()}") from None
                continue
            with conn, conn.makefile("rb") as f:
                conn.settimeout(10.0)
                return json.loads(f.readline())
        raise RuntimeError(f"no probe record within {timeout} s:\n{hc.output()[-2000:]}")

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def script_names(n: int) -> List[str]:
    return [f"scale{i:02d}" for i in range(1, n + 1)]


def probe_source(listener: ProbeListener, mode: str, n: int) -> str:
    wait = "start line" if mode in (SANDBOXED, ASYNC) else "load prints"
    settings = dict(PROBE_SETTINGS, socket=listener.path, wait=wait, count=1 if wait == "start line" else n)
    with open(os.path.join(HERE, PROBE_FILE), encoding="utf-8") as f:
        return f"SETTINGS = {settings!r}\n" + f.read()


def make_hexchat(xvfb: Xvfb, env: SandboxEnv, server: ScriptedServer, listener: ProbeListener,
                 mode: str, n: int) -> HexChat:
    scripts = {f"{name}.py": SCRIPT.format(name=name) for name in script_names(n)}
    addons = {PROBE_FILE: probe_source(listener, mode, n)}
    common = dict(channel="#test", first_addon=PROBE_FILE, start_timeout=120.0)
    if mode in (ALONE, IN_PROCESS):
        return HexChat(xvfb, server.host, server.port, scripts=dict(addons, **scripts), **common)
    ini = "".join(f"[script:{name}]\nhooks = async\n" for name in scripts) if mode == ASYNC else ""
    return SandboxedHexChat(xvfb, server.host, server.port, env=env, scripts=addons,
                            sandbox_scripts=scripts, sandbox_ini=ini, **common)


def started_processes(hc: HexChat) -> List[int]:
    """HexChat's descendants (and session members), plus the sandbox's
    workers and theirs, should a worker not be a descendant of HexChat."""
    pids = {p.pid for p in hc.children()}
    if isinstance(hc, SandboxedHexChat):
        for state in hc.scripts_state():
            if state["pid"]:
                pids.add(state["pid"])
                pids.update(p.pid for p in descendants(state["pid"]))
    pids.discard(hc.pid)
    return sorted(pids)


def startup_figures(record: Dict[str, Any], hc: HexChat) -> Dict[str, Any]:
    t0 = record["t_load"]
    settled = record["t_settled"]
    stalls = record["stalls"]
    prints = record["load_prints"]
    return {
        "exec_to_autoload_ms": (t0 - hc.start_time) * 1000,
        "loaded_ms": (settled - t0) * 1000,
        "loaded_from_exec_ms": (settled - hc.start_time) * 1000,
        "last_load_print_ms": (max(prints) - t0) * 1000 if prints else None,
        "start_line": record["start_line"],
        "max_gap_ms": record["max_gap_s"] * 1000,
        "blocked_ms": sum(gap * 1000 - PROBE_SETTINGS["interval_ms"] for _, gap in stalls),
        "stalls_ms": [[round(at * 1000, 1), round(gap * 1000, 1)] for at, gap in stalls],
        "window_ms": (record["t_end"] - t0) * 1000,
        "ticks": record["ticks"],
        "autoload_order": record["autoload_order"],
    }


def check_record(record: Dict[str, Any], mode: str, n: int) -> None:
    if not record["first_in_autoload"] or record["loader_imported_before"]:
        raise RuntimeError(f"the probe did not load first ({mode}, {n}): {record}")
    if not record["settled"]:
        raise RuntimeError(f"{mode} with {n} scripts did not settle in {PROBE_SETTINGS['limit_s']} s: {record}")
    if mode != ALONE and len(record["load_prints"]) != n:
        raise RuntimeError(f"{mode}: {len(record['load_prints'])} of {n} scripts printed their load")


def run_one(xvfb: Xvfb, env: SandboxEnv, listener: ProbeListener, mode: str, n: int,
            messages: int, repeat: int, budget_s: float) -> Dict[str, Any]:
    server = ScriptedServer().start()
    try:
        hc = make_hexchat(xvfb, env, server, listener, mode, n)
        try:
            hc.start()
            record = listener.receive(hc, timeout=PROBE_SETTINGS["limit_s"] + 30)
            check_record(record, mode, n)
            result = startup_figures(record, hc)
            if isinstance(hc, SandboxedHexChat):
                running = [s for s in hc.scripts_state() if s["state"] == "running"]
                if len(running) != n:
                    raise RuntimeError(f"{mode}: {len(running)} of {n} scripts running")
            others = started_processes(hc)
            result["hexchat_pss_mb"] = (pss_kb(hc.pid) or 0) / 1024
            result["others_pss_mb"] = sum(pss_kb(pid) or 0 for pid in others) / 1024
            result["pss_mb"] = result["hexchat_pss_mb"] + result["others_pss_mb"]
            result["processes"] = 1 + len(others)
            server.roundtrip()
            cpu_before = cpu_seconds(hc.pid) or 0.0
            # A bound against a hang only: synchronous hooks take a round trip
            # each, well under a millisecond even on a loaded machine.
            times = burst_seconds(server, messages, repeat, timeout=120 + messages * n / 1000,
                                  budget_s=budget_s)
            cpu = ((cpu_seconds(hc.pid) or 0.0) - cpu_before) / len(times)
            result.update(burst_s=times, burst_median_s=statistics.median(times), hexchat_cpu_per_burst_s=cpu)
            if isinstance(hc, SandboxedHexChat):
                result["missed_events"] = sum(s.get("missed") or 0 for s in hc.scripts_state())
            return result
        finally:
            hc.stop()
    finally:
        server.stop()


def print_table(results: Dict[str, Dict[str, Any]], rows: List[Tuple[str, int]], messages: int) -> None:
    print(f"{'mode':<24} {'N':>3} {'loaded ms':>9} {'from exec':>9} {'last print':>10} "
          f"{'PSS MB':>7} {'procs':>5} {'bursts':>6} {'burst s':>8} {'vs in-proc':>10} {'cpu s':>6} {'missed':>6} "
          f"{'max gap ms':>10} {'blocked ms':>10}")
    for mode, n in rows:
        r = results[key(mode, n)]
        base = results.get(key(IN_PROCESS, n))
        ratio = f"{r['burst_median_s'] / base['burst_median_s']:.2f}x" if base else "-"
        last = f"{r['last_load_print_ms']:.0f}" if r["last_load_print_ms"] is not None else "-"
        print(f"{mode:<24} {n:>3} {r['loaded_ms']:>9.0f} {r['loaded_from_exec_ms']:>9.0f} {last:>10} "
              f"{r['pss_mb']:>7.1f} {r['processes']:>5} {len(r['burst_s']):>6} {r['burst_median_s']:>8.3f} {ratio:>10} "
              f"{r['hexchat_cpu_per_burst_s']:>6.2f} "
              f"{r.get('missed_events', '-'):>6} {r['max_gap_ms']:>10.0f} {r['blocked_ms']:>10.0f}")
    print(f"burst: {messages} channel messages, median of the bursts (cpu s: HexChat's own CPU time per "
          f"burst, mean); loaded and gaps: from the start "
          f"of the Python plugin's autoload (in the JSON, stalls_ms lists [at ms, gap ms] of each gap "
          f">= {PROBE_SETTINGS['stall_ms']} ms)")


def key(mode: str, n: int) -> str:
    return f"{mode}, {n} scripts"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1,10,30", help="numbers of scripts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="bursts per HexChat (the median is shown)")
    parser.add_argument("--burst-budget", type=float, default=60.0,
                        help="no new burst once a HexChat's bursts took this many seconds (0: no limit)")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "hexchat_scale.json"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    rows = [(ALONE, 0)] + [(mode, n) for n in sizes for mode in MODES]
    env = build_sandbox_env()
    xvfb = Xvfb().start()
    listener = ProbeListener()
    results: Dict[str, Dict[str, Any]] = {}
    try:
        for mode, n in rows:
            figures = run_one(xvfb, env, listener, mode, n, args.messages, args.repeat, args.burst_budget)
            results[key(mode, n)] = dict(figures, mode=mode, scripts=n)
    finally:
        listener.close()
        xvfb.stop()
        shutil.rmtree(env.base, ignore_errors=True)
    print_table(results, rows, args.messages)
    write_results(args.json, results, argv, "benchmarks/hexchat_scale.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
