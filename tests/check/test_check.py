"""What one check finds (the runner), and the ``hexsandbox check`` front end:
its progress, table, JSON, JUnit and exit status, through pytest and xdist."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

from hexsandbox.check.runner import check_script
from hexsandbox.check.frontend import run_check
from hexsandbox.check.scenario import PLAUSIBLE_ARGUMENTS

HERE = os.path.dirname(__file__)
FIXTURES = os.path.join(HERE, "fixtures")
# Scripts checked one at a time (not part of the folder runs below).
EXTRA = os.path.join(HERE, "extra_fixtures")
EXPECTED = {"crashes.py": "failed", "good.py": "ok", "hangs.py": "failed", "nameless.py": "failed",
            "py2_only.py": "failed", "raises.py": "warning"}


def _fixture(name):
    return os.path.join(FIXTURES, name)


def test_good_script():
    r = check_script(_fixture("good.py"))
    assert r["verdict"] == "ok" and r["loaded"] and r["note"] == ""
    assert r["commands"][:2] == ["/HELLO", "/HELLO test"]
    assert "PRIVMSG #test :hello from good" in r["sent"]
    assert any(line == "good saw a highlight from bob" for line in r["printed"])
    assert "command 'HELLO'" in r["hooks"]


def test_commands_get_plausible_arguments():
    """A nick in the channel, a channel, a number, free text: the number
    reaches a bug that a bare call and one word never did."""
    r = check_script(os.path.join(EXTRA, "arguments.py"))
    assert r["commands"] == [f"/GREETNICK {a}".rstrip() for a in PLAUSIBLE_ARGUMENTS]
    assert {"/GREETNICK dave", "/GREETNICK #test", "/GREETNICK 42",
            "/GREETNICK hello there, how are you?"} <= set(r["commands"])
    assert "PRIVMSG #test :hi dave" in r["sent"]
    assert "a channel: #test" in r["printed"]
    assert "args: hello there, how are you?" in r["printed"]
    assert r["verdict"] == "warning"
    assert [e.splitlines()[-1] for e in r["exceptions"]] == ["KeyError: 42"]


def test_python2_and_nameless_scripts_fail_to_load_with_a_reason():
    py2 = check_script(_fixture("py2_only.py"))
    assert py2["verdict"] == "failed" and py2["load_error"].startswith("Python 2 only:")
    assert py2["note"] == py2["load_error"]
    nameless = check_script(_fixture("nameless.py"))
    assert nameless["verdict"] == "failed" and nameless["load_error"] == "__module_name__ must be set"


def test_exception_in_callback_is_a_warning_with_traceback():
    r = check_script(_fixture("raises.py"))
    assert r["verdict"] == "warning"
    assert r["exceptions"] and r["exceptions"][0].splitlines()[-1] == "KeyError: 'missing key'"


def test_crash_and_hang_fail():
    crash = check_script(_fixture("crashes.py"))
    assert crash["verdict"] == "failed" and "exit code 7" in crash["crash"]
    assert crash["commands"] == ["/BOOM"]  # nothing is typed into a dead worker
    hang = check_script(_fixture("hangs.py"), deadline_ms=300)
    assert hang["verdict"] == "failed" and hang["hung"] and hang["late"]
    assert hang["commands"] == ["/SPIN"] and hang["crash"] == ""


def test_front_end_table_json_junit_and_exit_status_with_xdist(tmp_path, capsys, monkeypatch):
    # It names its plugins itself: it works where a CI turns entry points off.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    junit, js = tmp_path / "out.xml", tmp_path / "out.json"
    # Folder runs keep a deadline a busy machine meets (only hangs.py is late).
    status = run_check([FIXTURES], workers=2, junitxml=str(junit), json_path=str(js), deadline_ms=2500)
    assert status == 1
    out = capsys.readouterr().out
    progress = [line for line in out.splitlines() if line.startswith("[")]
    assert [line.split()[0] for line in progress] == [f"[{i}/6]" for i in range(1, 7)]
    assert {line.split()[1]: line.split()[2] for line in progress} == EXPECTED
    table = out[out.index("script "):]
    assert "6 scripts: 1 ok, 1 warning, 4 failed" in table
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()[1:7]}
    assert rows == EXPECTED
    assert "Python 2 only: Missing parentheses" in table
    data = json.loads(js.read_text())
    assert [r["script"] for r in data] == sorted(EXPECTED)  # by path, not finishing order
    assert {r["script"]: r["verdict"] for r in data} == EXPECTED
    [hang] = [r for r in data if r["script"] == "hangs.py"]
    assert "within 2500 ms" in hang["late"][0]  # the deadline reached the xdist workers
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("name") == "hexsandbox check"
    assert suite.get("tests") == "6" and suite.get("failures") == "4"
    failed = {c.get("classname") + ".py" for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {k for k, v in EXPECTED.items() if v == "failed"}


def test_serial_gives_the_same_verdicts_as_xdist(tmp_path, capsys):
    """-n 1 runs in this process without xdist; the verdicts match -n 2's (above)."""
    js = tmp_path / "n1.json"
    assert run_check([FIXTURES], workers=1, json_path=str(js)) == 1
    assert {r["script"]: r["verdict"] for r in json.loads(js.read_text())} == EXPECTED


def test_exit_status_zero_when_nothing_failed_and_two_when_nothing_checked(tmp_path, capsys,
                                                                          monkeypatch):
    # The user's own pytest options are not the front end's (-x would stop
    # at the first script, a bogus option would stop pytest).
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x --no-such-option")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "linked.py").symlink_to(_fixture("good.py"))  # a symlinked script is checked
    (scripts / "raises.py").write_text(open(_fixture("raises.py")).read())
    js = tmp_path / "out.json"
    # A script named twice (in its folder and by name) is checked once.
    assert run_check([str(scripts), str(scripts / "raises.py")], json_path=str(js)) == 0
    assert [(r["script"], r["verdict"]) for r in json.loads(js.read_text())] == [
        ("linked.py", "ok"), ("raises.py", "warning")]
    empty = tmp_path / "empty"
    empty.mkdir()
    capsys.readouterr()
    assert run_check([str(empty)]) == 2
    assert "no *.py scripts found" in capsys.readouterr().err
    assert run_check([str(tmp_path / "missing")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_examples_folder_in_ci(tmp_path):
    """`hexsandbox check scripts/examples` as CI runs it: table and JUnit."""
    exe = os.path.join(os.path.dirname(sys.executable), "hexsandbox")
    examples = os.path.join(HERE, "..", "..", "scripts", "examples")
    os.makedirs("build", exist_ok=True)
    junit = os.path.join("build", "check-examples.xml")  # kept as a CI artifact
    out = subprocess.run([exe, "check", examples, "-n", "2", "--junitxml", str(junit)],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stdout + out.stderr  # the corpus has deliberately broken scripts
    broken = {"broken_py2.py", "no_module_name.py"}
    names = {line.split()[1]: line.split()[2] for line in out.stdout.splitlines() if line.startswith("[")}
    assert {k for k, v in names.items() if v == "failed"} == broken, out.stdout
    assert all(v == "ok" for k, v in names.items() if k not in broken), out.stdout
    assert ET.parse(junit).getroot().find("testsuite").get("tests") == str(len(names))
    with open(os.path.join("build", "check-examples.txt"), "w") as f:
        f.write(out.stdout)


def test_a_script_stuck_in_its_unload_hook_fails_and_is_killed():
    r = check_script(os.path.join(EXTRA, "unload_hangs.py"), deadline_ms=300)
    assert r["verdict"] == "failed" and r["hung_unloading"] and r["crash"] == ""
    assert r["note"] == "did not finish its unload hooks; killed"


def test_a_check_item_that_failed_without_a_result_still_gets_a_failed_row():
    """E.g. the xdist worker running it died: the table must not lose the script."""
    import pytest

    from hexsandbox.check.report import ResultCollector

    collector = ResultCollector()
    collector.pytest_runtest_logreport(pytest.TestReport(
        nodeid="legacy/lost.py::check", location=("legacy/lost.py", None, "lost"), keywords={},
        outcome="failed", longrepr="Traceback ...\nworker 'gw1' crashed while running it",
        when="call"))
    collector.pytest_runtest_logreport(pytest.TestReport(
        nodeid="tests/test_unit.py::test_x", location=("tests/test_unit.py", 1, "test_x"),
        keywords={}, outcome="failed", longrepr="not ours", when="call"))
    [row] = collector.results
    assert row["script"] == "lost.py" and row["verdict"] == "failed"
    assert row["note"] == "check error (call): worker 'gw1' crashed while running it"


def test_front_end_without_xdist_says_what_to_install_in_one_line():
    """Debian's own Python has pytest but not pytest-xdist: -n 2 cannot run."""
    repo = os.path.join(HERE, "..", "..")
    probe = subprocess.run(["/usr/bin/python3", "-c", "import xdist"], capture_output=True)
    assert probe.returncode != 0, "this test needs a Python without pytest-xdist"
    out = subprocess.run(["/usr/bin/python3", "-m", "hexsandbox.cli", "check", FIXTURES, "-n", "2"],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                         env={**os.environ, "PYTHONPATH": os.path.abspath(repo)})
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1
    assert out.stderr.startswith("hexsandbox check: needs pytest-xdist in /usr/bin/python3 (pipx: ")


def test_a_script_stuck_at_its_top_level_fails_and_the_check_goes_on():
    r = check_script(os.path.join(EXTRA, "load_hangs.py"), load_timeout_s=1.0)
    assert r["verdict"] == "failed" and not r["loaded"]
    assert r["note"] == "did not finish loading within 1 s; killed"
