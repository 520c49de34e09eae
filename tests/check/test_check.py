"""`hexsandbox check` verdicts, reports and exit status."""

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from hexsandbox.smoke import check_script, find_scripts, run_check

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
EXPECTED = {"crashes.py": "failed", "good.py": "ok", "hangs.py": "failed", "nameless.py": "failed",
            "py2_only.py": "failed", "raises.py": "warning"}


def _fixture(name):
    return os.path.join(FIXTURES, name)


def test_finds_scripts_sorted_and_unique(tmp_path):
    found = find_scripts([FIXTURES, _fixture("good.py")])
    assert [os.path.basename(p) for p in found] == sorted(EXPECTED)


def test_good_script():
    r = check_script(_fixture("good.py"), deadline_ms=1000)
    assert r["verdict"] == "ok" and r["loaded"]
    assert r["commands"] == ["/HELLO", "/HELLO test"]
    assert "PRIVMSG #test :hello from good" in r["sent"]
    assert any(l == "good saw a highlight from bob" for l in r["printed"])
    assert "command 'HELLO'" in r["hooks"]


def test_python2_and_nameless_scripts_fail_to_load_with_a_reason():
    py2 = check_script(_fixture("py2_only.py"))
    assert py2["verdict"] == "failed" and py2["load_error"].startswith("Python 2 only:")
    nameless = check_script(_fixture("nameless.py"))
    assert nameless["verdict"] == "failed" and nameless["load_error"] == "__module_name__ must be set"


def test_exception_in_callback_is_a_warning_with_traceback():
    r = check_script(_fixture("raises.py"))
    assert r["verdict"] == "warning"
    assert r["exceptions"] and r["exceptions"][0].splitlines()[-1] == "KeyError: 'missing key'"


def test_crash_and_hang_fail():
    crash = check_script(_fixture("crashes.py"))
    assert crash["verdict"] == "failed" and "exit code 7" in crash["crash"]
    hang = check_script(_fixture("hangs.py"), deadline_ms=300)
    assert hang["verdict"] == "failed" and hang["hung"] and hang["late"]


def test_cli_reports_and_exit_status(tmp_path, capsys):
    junit, js = tmp_path / "out.xml", tmp_path / "out.json"
    status = run_check([FIXTURES], workers=2, junitxml=str(junit), json_path=str(js), deadline_ms=500)
    assert status == 1
    out = capsys.readouterr().out
    assert "[6/6]" in out and "6 scripts: 1 ok, 1 warning, 4 failed" in out
    data = json.loads(js.read_text())
    assert {r["script"]: r["verdict"] for r in data} == EXPECTED
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "6" and suite.get("failures") == "4"
    failed = {c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert failed == {k for k, v in EXPECTED.items() if v == "failed"}


def test_parallel_gives_the_same_verdicts_as_serial(tmp_path):
    a, b = tmp_path / "n1.json", tmp_path / "n2.json"
    run_check([FIXTURES], workers=1, json_path=str(a), deadline_ms=500)
    run_check([FIXTURES], workers=2, json_path=str(b), deadline_ms=500)
    verdicts = [{r["script"]: r["verdict"] for r in json.loads(p.read_text())} for p in (a, b)]
    assert verdicts[0] == verdicts[1] == EXPECTED


def test_only_good_scripts_exit_zero():
    assert run_check([_fixture("good.py"), _fixture("raises.py")]) == 0


def test_examples_folder_in_ci(tmp_path):
    """`hexsandbox check scripts/examples` as CI runs it: table and JUnit."""
    exe = os.path.join(os.path.dirname(sys.executable), "hexsandbox")
    examples = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "examples")
    os.makedirs("build", exist_ok=True)
    junit = os.path.join("build", "check-examples.xml")  # kept as a CI artifact
    out = subprocess.run([exe, "check", examples, "-n", "2", "--junitxml", str(junit)],
                         capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert out.returncode == 1, out.stdout + out.stderr  # the corpus has deliberately broken scripts
    broken = {"broken_py2.py", "no_module_name.py"}
    names = {line.split()[1]: line.split()[2] for line in out.stdout.splitlines() if line.startswith("[")}
    assert {k for k, v in names.items() if v == "failed"} == broken, out.stdout
    assert all(v == "ok" for k, v in names.items() if k not in broken), out.stdout
    assert ET.parse(junit).getroot().get("tests") == str(len(names))
    with open(os.path.join("build", "check-examples.txt"), "w") as f:
        f.write(out.stdout)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
