"""Run one script through the standard scenario and say what happened.

Each script gets a fresh :class:`~hexsandbox.testing.EmulatedClient` (its own
temp config dir and sandboxed worker), so checks share nothing and verdicts
do not depend on the order or how many run at once.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import List

from ..client import SandboxError, State
from . import scenario
from .verdicts import Result, finish, new_result

#: Unload hooks are callbacks: they get the hook deadline, plus this long
#: for the worker process to exit and be reaped (real seconds).
EXIT_ALLOWANCE_S = 2.0
#: How long a script's top level may take to run (imports included).
LOAD_TIMEOUT_S = 20.0
#: How long a worker that failed to load, or was killed, may take to exit.
EXIT_TIMEOUT_S = 10.0


def tracebacks(lines: List[str]) -> List[str]:
    """Traceback blocks among printed lines (callback exceptions are printed
    into a tab, as HexChat's Python plugin does)."""
    blocks: List[str] = []
    current: List[str] = []
    for line in lines:
        if line.startswith("Traceback (most recent call last):"):
            current = [line]
        elif current:
            current.append(line)
            if not line.startswith(" "):
                blocks.append("\n".join(current))
                current = []
    return blocks


def check_script(path: str, deadline_ms: int = 2000, load_timeout_s: float = LOAD_TIMEOUT_S) -> Result:
    """Check one script; returns a plain-data result (see :mod:`.verdicts`)."""
    from ..testing import EmulatedClient

    started = time.monotonic()
    base = scenario.baseline()
    path = os.path.abspath(path)
    result = new_result(path, os.path.basename(path))
    with tempfile.TemporaryDirectory(prefix="hexsandbox-check-") as config:
        client = EmulatedClient(config, nick=scenario.NICK, channel=scenario.CHANNEL,
                                deadline_ms=deadline_ms)
        try:
            try:
                script = client.load(path, wait=False)
            except SandboxError as exc:  # e.g. its declared packages could not be installed
                result["load_error"] = str(exc)
                return finish(result, time.monotonic() - started)
            try:
                client.wait_for(lambda: script.state is not State.STARTING or script.dead,
                                load_timeout_s, f"{script.label} to load")
                client.settle(script)
            except TimeoutError:  # stuck at top level; client.close() kills it
                result["load_error"] = f"did not finish loading within {load_timeout_s:g} s; killed"
                return finish(result, time.monotonic() - started)
            result["loaded"] = script.state is State.RUNNING
            result["load_error"] = script.load_error
            result["hooks"] = sorted(script.hook_names.values())
            if not result["loaded"]:
                client.wait_for(lambda: script.dead, EXIT_TIMEOUT_S, "the failed worker to exit")
            else:
                result["commands"] = scenario.play(client, script)
                if script.late:
                    # Stuck in a callback: client.close() below kills it
                    # (Sandbox.shutdown kills late workers), so one hang
                    # cannot stall the run.
                    result["hung"] = True
                elif not script.dead:
                    # The sandbox kills a worker still there ``grace_ms``
                    # after unload, on the emulator's (virtual) clock.
                    client.sandbox.unload(script, grace_ms=deadline_ms)
                    try:
                        client.wait_for(lambda: script.dead, deadline_ms / 1000 + EXIT_ALLOWANCE_S,
                                        f"{script.label} to unload")
                    except TimeoutError:
                        result["hung_unloading"] = True
                client.emu.pump()  # a death noticed meanwhile is reported now
            reports = list(client.sandbox.reports)  # before a kill of ours adds to them
            result["late"] = [r.text for r in reports if r.kind == "late"]
            crashes = [r.text for r in reports if r.kind in ("crash", "protocol")]
            result["crash"] = crashes[0] if crashes else ""
            lines = scenario.printed_lines(client)
            result["exceptions"] = tracebacks(lines)
            result["printed"] = scenario.minus(lines, base["printed"])
            result["sent"] = scenario.minus(list(client.sent), base["sent"])
            if result["hung_unloading"]:
                client.emu.advance(deadline_ms)  # the grace timer fires: killed
                client.wait_for(lambda: script.dead, EXIT_TIMEOUT_S, "the stuck worker to die")
        except Exception as exc:  # a bug of ours must not hide the other scripts
            result["crash"] = result["crash"] or f"check error: {type(exc).__name__}: {exc}"
        finally:
            client.close()
    return finish(result, time.monotonic() - started)
