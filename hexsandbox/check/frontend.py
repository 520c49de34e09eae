"""``hexsandbox check``: the friendly front end over ``pytest --hexsandbox-check``.

It runs pytest in this process (``pytest.main``) with the collector, and
pytest-xdist for ``-n N``, then prints the verdict table built from the
items' results. pytest's own terminal output is switched off: the progress
lines and the table are the interface here; ``pytest --hexsandbox-check``
is the interface for those who want pytest's.

The run is isolated from whatever project the scripts sit in: pytest reads
an ini file of ours (not the project's ``pytest.ini``/``pyproject.toml``,
whose ``addopts`` could be anything, nor ``PYTEST_ADDOPTS``), loads no
``conftest.py`` and writes no ``.pytest_cache`` into the script folders.

Exit status: 0 if no script failed, 1 if any did, 2 if nothing was checked
(no ``*.py`` found, or pytest could not start: the reason is on stderr).
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import List, Optional, Union

import pytest

from .report import ResultCollector, print_table, write_json

#: The ini file the front end runs pytest with. Hidden folders and caches
#: are not scripts; everything else under the given paths is.
INI = """\
[pytest]
norecursedirs = .* __pycache__
junit_suite_name = hexsandbox check
junit_logging = system-out
"""


class _Errors:
    """pytest's terminal is off, so say here what stops scripts being checked."""

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            lines = str(report.longrepr).strip().splitlines() or ["collection failed"]
            print(f"hexsandbox check: {report.nodeid or 'collection'}: {lines[-1]}",
                  file=sys.stderr)


def pytest_args(paths: List[str], workers: Union[int, str], junitxml: Optional[str],
                deadline_ms: int, ini: str) -> List[str]:
    """The pytest command line ``hexsandbox check`` stands for (what a CI
    would write out by hand to run pytest itself)."""
    absolute = [os.path.abspath(p) for p in paths]
    common = os.path.commonpath(absolute) if absolute else os.getcwd()
    rootdir = common if os.path.isdir(common) else os.path.dirname(common)
    args = ["-c", ini, "--rootdir", rootdir, "-p", "hexsandbox.check.collector",
            "-p", "no:cacheprovider", "-p", "no:terminal", "--noconftest",
            "--hexsandbox-deadline-ms", str(deadline_ms)]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD") and str(workers) != "1":
        args += ["-p", "xdist.plugin"]
    if str(workers) != "1":
        args += ["-n", str(workers)]
    if junitxml:
        args += ["--junitxml", os.path.abspath(junitxml)]
    for path in absolute:
        args += ["--hexsandbox-check", path]
    return args


def run_check(paths: List[str], workers: Union[int, str] = 1, junitxml: Optional[str] = None,
              json_path: Optional[str] = None, deadline_ms: int = 2000) -> int:
    """Check ``paths``; print progress and the table; see the module doc for
    the exit status."""
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        print(f"hexsandbox check: no such file or folder: {missing[0]}", file=sys.stderr)
        return 2
    collector = ResultCollector(progress=sys.stdout)
    with tempfile.TemporaryDirectory(prefix="hexsandbox-check-ini-") as tmp:
        ini = os.path.join(tmp, "pytest.ini")
        with open(ini, "w", encoding="utf-8") as f:
            f.write(INI)
        # PYTEST_ADDOPTS is for the user's own pytest runs (it could say -x
        # or --cov); this run's options are all ours. xdist workers inherit
        # the environment, so it is taken out for the run, then put back.
        addopts = os.environ.pop("PYTEST_ADDOPTS", None)
        try:
            status = pytest.main(pytest_args(paths, workers, junitxml, deadline_ms, ini),
                                 plugins=[collector, _Errors()])
        finally:
            if addopts is not None:
                os.environ["PYTEST_ADDOPTS"] = addopts
    results = collector.results
    if not results:
        if status in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            print("hexsandbox check: no *.py scripts found", file=sys.stderr)
        else:
            print(f"hexsandbox check: pytest stopped ({pytest.ExitCode(status).name})",
                  file=sys.stderr)
        return 2
    print()
    print_table(results)
    if json_path:
        write_json(results, json_path)
    return 1 if any(r["verdict"] == "failed" for r in results) else 0
