"""Issue 14's question: can a hook that provably never eats be sent one-way
without the user asking (``hooks = async``), with nothing the user sees changing?

For every Python scenario of the differential corpus (tests/e2e/differential:
scripts/examples plus the API-exercising and fidelity scripts), on the
emulator:

1. load the script and ask its worker, for each hook it registered, whether
   :func:`hexsandbox.never_eats.never_eats` proves the callback never eats;
2. for each script all of whose event hooks (print, server, command) are
   proven, play its scenario twice, sandboxed as today and with
   ``hooks_async``, and compare the two normalised transcripts.

A script counts as "changed" if anything differs: a line, its place among
HexChat's own lines, what was sent to the server, pluginprefs.

Usage: python benchmarks/never_eats_study.py [--json FILE]
Prints a table and writes JSON (default benchmarks/results/never_eats_study.json).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from differential.runner import play_emulator  # noqa: E402
from differential.scenarios import corpus  # noqa: E402

from hexsandbox.benchtools import write_results  # noqa: E402
from hexsandbox.testing import EmulatedClient  # noqa: E402

EVENT_KINDS = ("print", "server", "command")


def hook_verdicts() -> List[Any]:
    """In the worker: (kind, proven never to eat) for each hook registered."""
    from hexsandbox import worker
    from hexsandbox.never_eats import never_eats

    runtime = worker.RUNTIME
    assert runtime is not None
    return [[hook.kind, never_eats(hook.callback)] for hook in runtime.hooks.values()]


def classify(source: str, filename: str) -> List[Any]:
    with EmulatedClient() as client:
        path = os.path.join(client.config_dir, filename)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        script = client.load(path)
        if script.dead or script.session is None or not script.session.alive:
            return []
        return client.run_in_worker(script, hook_verdicts)


def study() -> Dict[str, Any]:
    rows = []
    for scn in corpus():
        if scn.load_failure or scn.emulator_xfail:
            continue
        verdicts = [v for v in classify(scn.source, scn.filename) if v[0] in EVENT_KINDS]
        proven = sum(1 for _kind, ok in verdicts if ok)
        row: Dict[str, Any] = {"script": scn.name, "event_hooks": len(verdicts), "never_eat": proven,
                               "played_async": False, "changed": None}
        if verdicts and proven == len(verdicts):
            with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
                sync = play_emulator(scn, a)
                one_way = play_emulator(scn, b, hooks_async=True)
            row["played_async"] = True
            row["changed"] = _normal(sync, a) != _normal(one_way, b)
        rows.append(row)
    hooks = sum(r["event_hooks"] for r in rows)
    never = sum(r["never_eat"] for r in rows)
    played = [r for r in rows if r["played_async"]]
    return {"rows": rows, "scripts": len(rows), "event_hooks": hooks, "never_eat_hooks": never,
            "scripts_all_never_eat": len(played),
            "of_those_changed": sum(1 for r in played if r["changed"])}


def _normal(transcript: Any, config_dir: str) -> Any:
    return repr(transcript).replace(config_dir, "<dir>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=os.path.join(HERE, "results", "never_eats_study.json"))
    args = parser.parse_args()
    result = study()
    print(f"{'script':<24} {'event hooks':>11} {'never eat':>9}  async transcript")
    for r in result["rows"]:
        verdict = ("-" if not r["played_async"] else "CHANGED" if r["changed"] else "same")
        print(f"{r['script']:<24} {r['event_hooks']:>11} {r['never_eat']:>9}  {verdict}")
    print(f"\n{result['scripts']} scripts, {result['event_hooks']} event hooks, "
          f"{result['never_eat_hooks']} proven never to eat; {result['scripts_all_never_eat']} "
          f"scripts with only such hooks, of which {result['of_those_changed']} changed when "
          f"their hooks ran one-way.")
    write_results(args.json, result, sys.argv, __file__)


if __name__ == "__main__":
    main()
