"""``pytest --hexsandbox-check DIR``: each script a pytest item, run as a CI
that already uses pytest would run it (its own project, its own ini), so
xdist, ``--junitxml``, ``-k``, ``--lf`` and ``--tx`` work unchanged."""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
EXPECTED = {"crashes": "failed", "good": "ok", "hangs": "failed", "nameless": "failed",
            "py2_only": "failed", "raises": "warning", "test_named_like_a_test": "ok"}


@pytest.fixture
def project(tmp_path):
    """A CI project: its own unit test, and a folder of legacy scripts."""
    legacy = tmp_path / "legacy"
    shutil.copytree(FIXTURES, legacy)
    # pytest's Python collector would import this one; a script must not be.
    (legacy / "test_named_like_a_test.py").write_text(
        (legacy / "good.py").read_text().replace('"good"', '"named_like_a_test"'))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_unit.py").write_text("def test_unit():\n    assert 1 + 1 == 2\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    return tmp_path


def _pytest(project, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", *args],
                          cwd=project, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def _cases(path):
    return {c.get("classname"): c for c in ET.parse(path).getroot().iter("testcase")}


def _props(case):
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def test_scripts_are_items_beside_the_unit_tests_under_xdist_and_junit_carries_verdicts(project):
    out = _pytest(project, "tests", "--hexsandbox-check", "legacy", "-n", "2",
                  "--hexsandbox-deadline-ms", "2500", "--junitxml", "report.xml",
                  "-o", "junit_logging=system-out", "--hexsandbox-json", "results.json")
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    # 3 ok/warning scripts + the unit test; the ScriptWarning; no collection error
    assert "4 failed, 4 passed, 1 warning in" in text, text
    assert "ScriptWarning: raises.py: KeyError: 'missing key'" in text
    cases = _cases(project / "report.xml")
    assert "tests.test_unit" in cases
    for name, verdict in EXPECTED.items():
        case = cases[f"legacy.{name}"]
        assert case.get("name") == "check"
        assert _props(case)["hexsandbox.verdict"] == verdict
        assert (case.find("failure") is not None) == (verdict == "failed"), name
    assert "within 2500 ms" in cases["legacy.hangs"].find("failure").get("message")
    py2 = cases["legacy.py2_only"].find("failure").get("message")
    assert py2.startswith("py2_only.py: Python 2 only: Missing parentheses")
    good = cases["legacy.good"]
    assert _props(good)["hexsandbox.hooks"] == "command 'HELLO', print 'Channel Msg Hilight'"
    assert "/HELLO dave" in good.find("system-out").text
    assert "PRIVMSG #test :hello from good" in good.find("system-out").text
    # The full results crossed from the xdist workers to the controller.
    results = json.loads((project / "results.json").read_text())
    assert {r["script"][:-3]: r["verdict"] for r in results} == EXPECTED


def test_k_selects_scripts_and_lf_reruns_the_failed_ones_across_tx_workers(project):
    first = _pytest(project, "--hexsandbox-check", "legacy", "-k", "good or nameless or crashes",
                    "--tx", "2*popen", "--dist", "load", "-v", "--junitxml", "first.xml")
    text = first.stdout + first.stderr
    assert first.returncode == 1, text
    assert "2 failed, 1 passed in" in text, text  # xdist deselects on the workers, unseen here
    assert "[gw0]" in text and "[gw1]" in text, text
    assert set(_cases(project / "first.xml")) == {"legacy.good", "legacy.nameless", "legacy.crashes"}
    again = _pytest(project, "--hexsandbox-check", "legacy", "--lf", "--junitxml", "again.xml")
    text = again.stdout + again.stderr
    assert again.returncode == 1, text
    assert "rerun previous 2 failures" in text and "2 failed in" in text, text
    assert set(_cases(project / "again.xml")) == {"legacy.nameless", "legacy.crashes"}


def test_a_failed_script_shows_its_reason_and_transcript(project):
    out = _pytest(project, "--hexsandbox-check", "legacy/nameless.py", "-k", "nameless")
    assert out.returncode == 1
    assert "nameless.py: __module_name__ must be set" in out.stdout
    assert "Captured stdout call" in out.stdout and "verdict: failed" in out.stdout
    assert "FAILED legacy/nameless.py::check" in out.stdout


def test_warnings_can_be_made_failures_with_pytest_W(project):
    out = _pytest(project, "--hexsandbox-check", "legacy", "-k", "raises",
                  "-W", "error::hexsandbox.check.collector.ScriptWarning")
    assert out.returncode == 1, out.stdout
    assert "FAILED legacy/raises.py::check - raises.py: KeyError: 'missing key'" in out.stdout
