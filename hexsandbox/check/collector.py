"""pytest collects legacy scripts: ``pytest --hexsandbox-check DIR``.

Every ``*.py`` (and Perl ``*.pl``) under DIR becomes one test item, ``DIR/name.py::check``, that
runs :func:`~hexsandbox.check.runner.check_script`. So everything pytest and
its plugins do works on a script suite as on any test suite: ``-n auto``,
``--dist`` and ``--tx ssh=...`` (pytest-xdist), ``--junitxml``, ``-k``,
``--lf``, progress, ``-W error::hexsandbox.check.collector.ScriptWarning``.

The verdict maps onto the item: ``failed`` is a test failure (the reason
and tracebacks are its report), ``warning`` passes with a
:class:`ScriptWarning`, ``ok`` passes. The transcript (hooks, commands typed,
lines printed and sent) is the item's captured stdout, so pytest shows it
with a failure and JUnit carries it with ``-o junit_logging=system-out``;
the scalar summary is in ``user_properties`` (JUnit ``<property>``s); the
whole result rides on the report as ``report.hexsandbox_check`` (plain data,
so it crosses from xdist workers, as pytest-html's ``extras`` do) for the
``hexsandbox check`` table and ``--hexsandbox-json``.

Decisions: the DIRs join pytest's own arguments (they replace ``testpaths``
and the current directory when no path is given, so
``pytest --hexsandbox-check legacy/`` runs only the check and
``pytest tests/ --hexsandbox-check legacy/`` runs both). A file under DIR is
never imported by pytest's Python collector, even if it is named
``test_*.py``: a legacy script imports ``hexchat`` at top level.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any, Generator, Iterator, List, Optional

import pytest

from .verdicts import FAILED, WARNING, Result, failure_text, properties, transcript

ROOTS = pytest.StashKey[List[Path]]()


def script_line(result: Result) -> int:
    """The script's innermost line in its first traceback (1 if none)."""
    pattern = re.compile(r'File "%s", line (\d+)' % re.escape(result["path"]))
    lines = pattern.findall(result["exceptions"][0]) if result["exceptions"] else []
    return int(lines[-1]) if lines else 1


class ScriptWarning(UserWarning):
    """A script ran but a callback raised or answered late (verdict ``warning``)."""


class ScriptFailed(Exception):
    """A script did not load, crashed or hung (verdict ``failed``)."""

    def __init__(self, result: Result) -> None:
        super().__init__(result["note"])
        self.result = result


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hexsandbox", "hexsandbox check (legacy HexChat scripts)")
    group.addoption("--hexsandbox-check", action="append", default=[], metavar="PATH",
                    dest="hexsandbox_check",
                    help="check every *.py under PATH as a sandboxed HexChat script (repeatable)")
    group.addoption("--hexsandbox-deadline-ms", type=int, default=2000, metavar="MS",
                    dest="hexsandbox_deadline_ms", help="hook deadline per script (default 2000)")
    group.addoption("--hexsandbox-json", metavar="FILE", dest="hexsandbox_json",
                    help="write every script's full check result to FILE as JSON")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    given = config.getoption("hexsandbox_check") or []
    base = Path(config.invocation_params.dir)
    # A root or a script may be a symlink: match the path as given and as resolved.
    config.stash[ROOTS] = sorted({q for p in given for q in ((base / p).absolute(), (base / p).resolve())})
    if given:
        if config.getoption("file_or_dir"):  # paths on the command line
            config.args += [p for p in given if p not in config.args]
        else:
            config.args[:] = list(given)
    path = config.getoption("hexsandbox_json")
    if path and not hasattr(config, "workerinput"):  # the xdist controller, or no xdist
        from .report import ResultCollector

        config.pluginmanager.register(ResultCollector(json_path=path), "hexsandbox-json")


def _under_a_root(config: pytest.Config, path: Path) -> bool:
    roots = config.stash.get(ROOTS, [])
    return any(p == root or root in p.parents for p in (path.absolute(), path.resolve())
               for root in roots)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Optional[pytest.Collector]:
    if file_path.suffix in (".py", ".pl") and _under_a_root(parent.config, file_path):  # .pl: docs/perl.md
        return ScriptFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> Optional[pytest.Collector]:
    """pytest's Python collector would import a ``test_*.py`` under DIR (or a
    file given by name); give it an empty node instead, our item checks it."""
    if _under_a_root(parent.config, module_path):
        return NotATestModule.from_parent(parent, path=module_path)
    return None


class NotATestModule(pytest.File):
    """Stands in for pytest's Module for a script under DIR: collects nothing."""

    def collect(self) -> Iterator[pytest.Item]:
        return iter(())


class ScriptFile(pytest.File):
    """One legacy script: yields its single check item."""

    def collect(self) -> Iterator[pytest.Item]:
        yield ScriptCheck.from_parent(self, name="check")


class ScriptCheck(pytest.Item):
    """Runs the script through the standard scenario in its own sandbox."""

    result: Optional[Result] = None

    def runtest(self) -> None:
        # Imported here: the plugin is loaded by every pytest run in this Python.
        from .runner import check_script

        deadline = self.config.getoption("hexsandbox_deadline_ms")
        result = self.result = check_script(os.fspath(self.path), deadline_ms=deadline)
        self.user_properties.extend(properties(result))
        self.add_report_section("call", "stdout", transcript(result))
        if result["verdict"] == FAILED:
            raise ScriptFailed(result)
        if result["verdict"] == WARNING:
            # Pointed at the script's own line, so pytest's summary shows it.
            warnings.warn_explicit(ScriptWarning(f"{result['script']}: {result['note']}"),
                                   ScriptWarning, os.fspath(self.path), script_line(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScriptFailed):
            return failure_text(excinfo.value.result)
        if isinstance(excinfo.value, ScriptWarning) and self.result is not None:
            return failure_text(self.result)  # -W error::...ScriptWarning
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> Any:
        return self.path, None, f"hexsandbox check {self.path.name}"


# An old-style wrapper: it works with every pytest the project allows (>= 7).
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if call.when == "call" and isinstance(item, ScriptCheck) and item.result is not None:
        report.hexsandbox_check = item.result
