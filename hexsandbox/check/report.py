"""The results of a check run, gathered from pytest's reports: progress
lines, the verdict table and the JSON file.

:class:`ResultCollector` is a pytest plugin object for the controlling
process (the only one under xdist that sees every report). It reads each
item's full result from ``report.hexsandbox_check`` (see
:mod:`.collector`); a check item that failed without one (an xdist worker
that died under it, an error in setup) still gets a ``failed`` row with
pytest's own reason, so no script goes missing from the table.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from typing import IO, Any, Dict, List, Optional

import pytest

from .verdicts import Result, finish, new_result

ITEM_SUFFIX = "::check"


class ResultCollector:
    """Collects check results as reports arrive; optionally prints progress."""

    def __init__(self, json_path: Optional[str] = None, progress: Optional[IO[str]] = None) -> None:
        self.json_path = json_path
        self.progress = progress
        self.total = 0
        self.by_nodeid: Dict[str, Result] = {}

    @property
    def results(self) -> List[Result]:
        """Results sorted by path (xdist delivers them in finishing order)."""
        return sorted(self.by_nodeid.values(), key=lambda r: r["path"])

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = max(self.total, sum(i.nodeid.endswith(ITEM_SUFFIX) for i in session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: List[str]) -> None:
        self.total = max(self.total, sum(i.endswith(ITEM_SUFFIX) for i in ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = getattr(report, "hexsandbox_check", None)
        if result is None:
            if not (report.failed and report.nodeid.endswith(ITEM_SUFFIX)
                    and report.nodeid not in self.by_nodeid):
                return
            result = _lost(report)
        self.by_nodeid[report.nodeid] = result
        if self.progress is not None:
            print(f"[{len(self.by_nodeid)}/{max(self.total, len(self.by_nodeid))}] "
                  f"{result['script']} {result['verdict']}", file=self.progress, flush=True)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.json_path:
            write_json(self.results, self.json_path)


def _lost(report: pytest.TestReport) -> Result:
    """A failed row for a check item pytest failed before our result existed."""
    path = report.nodeid[: -len(ITEM_SUFFIX)]
    result = new_result(path, os.path.basename(path))
    lines = str(report.longrepr).strip().splitlines() or ["no result"]
    result["crash"] = f"check error ({report.when}): {lines[-1]}"
    return finish(result, report.duration)


def write_json(results: List[Result], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


def print_table(results: List[Result], out: Optional[IO[str]] = None) -> None:
    """The friendly table: one row per script, then the counts."""
    out = out or sys.stdout
    rows = [("script", "verdict", "hooks", "exceptions", "printed", "sent", "note")]
    for r in results:
        rows.append((r["script"], r["verdict"], str(len(r["hooks"])), str(len(r["exceptions"])),
                     str(len(r["printed"])), str(len(r["sent"])), r["note"][:70]))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    for row in rows:
        cells = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6]))
        print((cells + "  " + row[6]).rstrip(), file=out)
    counts = collections.Counter(r["verdict"] for r in results)
    print(f"\n{len(results)} scripts: {counts['ok']} ok, {counts['warning']} warning, "
          f"{counts['failed']} failed", file=out)
