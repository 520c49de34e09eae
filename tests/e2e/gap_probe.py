"""Main-loop gaps in real HexChat, and enough around them to say what a
failure was.

The stress tests bound HexChat's main-loop gaps (no gap over 100 ms). The
soak failed that bound once in about a dozen runs, alone on the machine,
with a 111 ms gap, and never when it was run again. A bare number could not
say whether HexChat was busy, waiting for the GIL, collecting garbage,
faulting pages back in, or whether the whole virtual machine stood still.
So the probe keeps, beside the gaps:

* the main thread's Python stack whenever no tick came for 50 ms (a sampler
  thread inside HexChat looks every 10 ms; "no Python frame" means HexChat's
  own C code or the kernel had it);
* the longest garbage collections of each generation (``gc.callbacks``);
* HexChat's major page faults (DAMON's ``pageout`` runs on this VM and can
  drop code pages);
* the CPU time each of HexChat's threads used;
* and, from the test's own process, how late a 5 ms sleep woke
  (:class:`MachineStalls`): if that was late by as much at the same moment,
  the whole machine stalled, not HexChat. Times are ``time.monotonic()``,
  one clock for every process here, so the two lists line up.

None of this changes what is asserted; it goes into the assertion message.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional

#: Install in HexChat's Python (the control addon's ``hc.eval``).
PROBE = """
import gc, sys, threading, time, traceback
_gap = {'ticks': [], 'gc': {0: 0.0, 1: 0.0, 2: 0.0}, 'stalls': [], 'stop': False}
def _gap_gc(phase, info, _t=[0.0]):
    if phase == 'start':
        _t[0] = time.monotonic()
    else:
        g = info['generation']
        _gap['gc'][g] = max(_gap['gc'][g], time.monotonic() - _t[0])
gc.callbacks.append(_gap_gc)
def _gap_majflt():
    with open('/proc/self/stat') as f:
        return int(f.read().rsplit(')', 1)[1].split()[9])
def _gap_cpu():
    out = {}
    for t in threading.enumerate():
        try:
            with open('/proc/self/task/%d/schedstat' % t.native_id) as f:
                out[t.name] = int(f.read().split()[0])
        except (OSError, TypeError):
            pass
    return out
def _gap_sample():
    main = threading.main_thread().ident
    while not _gap['stop']:
        time.sleep(0.010)
        ticks = _gap['ticks']
        if ticks and time.monotonic() - ticks[-1] > 0.050 and len(_gap['stalls']) < 20:
            frame = sys._current_frames().get(main)
            stack = ''.join(traceback.format_stack(frame)[-4:]) if frame is not None else 'no Python frame'
            _gap['stalls'].append((round(time.monotonic(), 2), stack))
_gap['majflt'], _gap['cpu'] = _gap_majflt(), _gap_cpu()
_gap_hook = hexchat.hook_timer(10, lambda userdata: _gap['ticks'].append(time.monotonic()) or True)
threading.Thread(target=_gap_sample, name='gap-sampler', daemon=True).start()
result = 1
"""

READ = """
hexchat.unhook(_gap_hook)
_gap['stop'] = True
gc.callbacks.remove(_gap_gc)
_t = _gap['ticks']
_gaps = sorted((round(b - a, 4), round(a, 2)) for a, b in zip(_t, _t[1:]))
_cpu = _gap_cpu()
result = {'max': _gaps[-1][0], 'ticks': len(_t), 'longest': _gaps[-5:],
          'gc_ms': {g: round(d * 1000, 1) for g, d in _gap['gc'].items()},
          'major_faults': _gap_majflt() - _gap['majflt'],
          'cpu_ms': {k: round((v - _gap['cpu'].get(k, 0)) / 1e6) for k, v in _cpu.items()},
          'stalls': _gap['stalls']}
"""


class MachineStalls:
    """How late a 5 ms sleep wakes in this (the test's) process while the
    probe runs: the machine's own stalls, to set beside HexChat's gaps."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.worst: List[Any] = []  # (lateness s, time.monotonic() when it slept)
        self._thread = threading.Thread(target=self._run, name="machine-stalls", daemon=True)

    def start(self) -> "MachineStalls":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def __enter__(self) -> "MachineStalls":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            before = time.monotonic()
            time.sleep(0.005)
            late = time.monotonic() - before - 0.005
            if late > 0.010:
                self.worst = sorted(self.worst + [(round(late, 4), round(before, 2))])[-5:]


def describe(gap: Dict[str, Any], machine: Optional[MachineStalls] = None) -> str:
    """The probe's findings, for an assertion message."""
    lines = [f"longest gaps (s, at monotonic s): {gap['longest']} over {gap['ticks']} ticks",
             f"longest garbage collections (ms, by generation): {gap['gc_ms']}",
             f"HexChat's major page faults: {gap['major_faults']}",
             f"CPU ms by HexChat thread: {gap['cpu_ms']}"]
    if machine is not None:
        lines.append(f"the test process's own late wake-ups (s, at monotonic s): {machine.worst}")
    for at, stack in gap["stalls"]:
        lines.append(f"main thread at {at} s, no tick for 50 ms:\n{stack}")
    return "\n".join(lines)
