"""``hexsandbox check``: smoke-test folders of legacy scripts on the emulator.

Each script runs alone in a fresh :class:`~hexsandbox.testing.EmulatedClient`
(its own temp config dir, its own sandboxed worker) through one standard
scenario: connect and join, channel messages, a highlight, an action, a
private message, a notice, another user's nick change, a join and a part,
each of the script's own commands with no argument and with one, an hour of
timers on the virtual clock, then unload. What it did is compared with the
same scenario run with no script at all, so "printed" and "sent" are the
script's own doing.

Parallel runs (``-n N``) use a process pool with the spawn start method: each
check is isolated already, so results do not depend on N, and a pool is the
simplest robust way to run N of them at once (pytest-xdist would add a test
collection layer for no gain here).
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import multiprocessing
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional

from .client import State

NICK = "tester"
CHANNEL = "#test"

#: The standard scenario before the script's own commands.
SERVER_LINES = (
    ":alice!alice@example.org PRIVMSG #test :hello everyone",
    ":bob!bob@example.org PRIVMSG #test :tester: are you there?",
    ":alice!alice@example.org PRIVMSG #test :\x01ACTION waves\x01",
    ":carol!carol@example.org PRIVMSG tester :psst, a private word",
    ":alice!alice@example.org NOTICE #test :a channel notice",
    ":alice!alice@example.org NICK :alice_",
    ":dave!dave@example.org JOIN #test",
    ":bob!bob@example.org PART #test :bye",
)
HOUR_MS = 3600 * 1000


def find_scripts(paths: List[str]) -> List[str]:
    """Every ``*.py`` and ``*.pl`` (docs/perl.md) under the given files and
    folders, sorted, no duplicates."""
    found = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith((".py", ".pl"))]
        elif path.endswith((".py", ".pl")) and os.path.isfile(path):
            found.append(path)
    seen, unique = set(), []
    for path in found:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(os.path.abspath(path))
    return unique


def _tracebacks(lines: List[str]) -> List[str]:
    """Traceback blocks printed into any tab."""
    blocks, current = [], None
    for line in lines:
        if line.startswith("Traceback (most recent call last):"):
            current = [line]
        elif current is not None:
            current.append(line)
            if not line.startswith(" "):
                blocks.append("\n".join(current))
                current = None
    return blocks


def _all_lines(client: Any) -> List[str]:
    return [line[1:] if line.startswith("\t") else line
            for lines in client.emu.all_lines().values() for line in lines]


def _run_scenario(client: Any, script: Any = None) -> List[str]:
    """Play the standard scenario; returns the commands it typed."""
    for line in SERVER_LINES:
        client.feed(line)
    typed = []
    commands = sorted({name.split("'")[1] for name in (script.hook_names.values() if script else ())
                       if name.startswith("command '") and name.split("'")[1]})
    for command in commands:
        for text in (f"/{command}", f"/{command} test"):
            if script is not None and (script.dead or script.late):
                break
            client.type(text, CHANNEL)
            typed.append(text)
    for _ in range(HOUR_MS // 60000):
        if script is not None and (script.dead or script.late):
            break
        client.advance(60000)
    return typed


_BASELINE: Dict[str, Any] = {}


def _baseline(deadline_ms: int) -> Dict[str, Any]:
    """What the scenario prints and sends with no script loaded."""
    if not _BASELINE:
        from .testing import EmulatedClient

        with EmulatedClient(nick=NICK, channel=CHANNEL, deadline_ms=deadline_ms) as client:
            _run_scenario(client)
            _BASELINE["lines"] = collections.Counter(_all_lines(client))
            _BASELINE["sent"] = collections.Counter(client.sent)
    return _BASELINE


def _minus(items: List[str], baseline: collections.Counter) -> List[str]:
    left = collections.Counter(baseline)
    out = []
    for item in items:
        if left[item] > 0:
            left[item] -= 1
        else:
            out.append(item)
    return out


def check_script(path: str, deadline_ms: int = 2000) -> Dict[str, Any]:
    """Check one script; returns a plain-data result."""
    from .testing import EmulatedClient

    started = time.monotonic()
    base = _baseline(deadline_ms)
    result: Dict[str, Any] = {"script": os.path.basename(path), "path": path, "loaded": False,
                              "load_error": "", "hooks": [], "commands": [], "exceptions": [],
                              "late": [], "crash": "", "hung": False, "printed": [], "sent": []}
    with tempfile.TemporaryDirectory(prefix="hexsandbox-check-") as config:
        client = EmulatedClient(config, nick=NICK, channel=CHANNEL, deadline_ms=deadline_ms)
        try:
            script = client.load(path)
            result["loaded"] = script.state is State.RUNNING
            result["load_error"] = script.load_error
            result["hooks"] = sorted(script.hook_names.values())
            if result["loaded"]:
                result["commands"] = _run_scenario(client, script)
                if script.late:
                    result["hung"] = True
                    client.sandbox._kill_if_alive(script)
                    client.wait_for(lambda: script.dead, 10, "the hung worker to die")
                elif not script.dead:
                    client.unload(script)
            else:
                client.wait_for(lambda: script.dead, 10, "the failed worker to exit")
            reports = client.sandbox.reports
            result["late"] = [r.text for r in reports if r.kind == "late"]
            crashes = [r.text for r in reports if r.kind in ("crash", "protocol")]
            result["crash"] = crashes[0] if crashes else ""
            lines = _all_lines(client)
            result["exceptions"] = _tracebacks(lines)
            result["printed"] = _minus(lines, base["lines"])
            result["sent"] = _minus(list(client.sent), base["sent"])
        except Exception as exc:  # a bug of ours must not hide the other scripts
            result["crash"] = result["crash"] or f"check error: {type(exc).__name__}: {exc}"
        finally:
            client.close()
    result["verdict"] = _verdict(result)
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def _verdict(r: Dict[str, Any]) -> str:
    if not r["loaded"] or r["crash"] or r["hung"]:
        return "failed"
    if r["exceptions"] or r["late"]:
        return "warning"
    return "ok"


def _note(r: Dict[str, Any]) -> str:
    if not r["loaded"]:
        return r["load_error"] or "did not load"
    if r["crash"]:
        return r["crash"]
    if r["hung"]:
        return "hung in a callback past the deadline; killed"
    if r["exceptions"]:
        return r["exceptions"][0].splitlines()[-1]
    if r["late"]:
        return "answered late"
    return ""


def print_table(results: List[Dict[str, Any]], out: Any = None) -> None:
    out = out or sys.stdout
    rows = [("script", "verdict", "hooks", "exceptions", "printed", "sent", "note")]
    for r in results:
        rows.append((r["script"], r["verdict"], str(len(r["hooks"])), str(len(r["exceptions"])),
                     str(len(r["printed"])), str(len(r["sent"])), _note(r)[:70]))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + row[6], file=out)
    counts = collections.Counter(r["verdict"] for r in results)
    print(f"\n{len(results)} scripts: {counts['ok']} ok, {counts['warning']} warning, "
          f"{counts['failed']} failed", file=out)


def write_junit(results: List[Dict[str, Any]], path: str) -> None:
    suite = ET.Element("testsuite", name="hexsandbox check", tests=str(len(results)),
                       failures=str(sum(r["verdict"] == "failed" for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="hexsandbox.check", name=r["script"],
                             time=str(r["seconds"]))
        if r["verdict"] == "failed":
            failure = ET.SubElement(case, "failure", message=_note(r))
            failure.text = "\n\n".join([_note(r)] + r["exceptions"])
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([f"verdict: {r['verdict']}", f"hooks: {', '.join(r['hooks'])}"]
                             + ["printed:"] + r["printed"][:20] + ["sent:"] + r["sent"][:20]
                             + ["exceptions:"] + r["exceptions"])
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def run_check(paths: List[str], workers: int = 1, junitxml: Optional[str] = None,
              json_path: Optional[str] = None, deadline_ms: int = 2000) -> int:
    """The CLI: exit status 1 if any script failed to load, crashed or hung."""
    scripts = find_scripts(paths)
    if not scripts:
        print("hexsandbox check: no *.py scripts found", file=sys.stderr)
        return 2
    results: List[Dict[str, Any]] = []
    total = len(scripts)

    def done(r: Dict[str, Any]) -> None:
        results.append(r)
        print(f"[{len(results)}/{total}] {r['script']} {r['verdict']}", flush=True)

    if workers <= 1:
        for path in scripts:
            done(check_script(path, deadline_ms))
    else:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(check_script, path, deadline_ms) for path in scripts]
            for future in concurrent.futures.as_completed(futures):
                done(future.result())
    results.sort(key=lambda r: scripts.index(r["path"]))
    print()
    print_table(results)
    if junitxml:
        write_junit(results, junitxml)
    if json_path:
        with open(json_path, "w") as f:
            json.dump(results, f, indent=1)
    return 1 if any(r["verdict"] == "failed" for r in results) else 0
