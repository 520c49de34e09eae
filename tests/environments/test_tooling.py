"""The pytest fixture and ``hexsandbox check`` install what a script declares."""

import json
import os
import subprocess
import sys

from .conftest import write_script

BODY = 'import tomli_w\nhexchat.prnt("toml says " + tomli_w.dumps({"k": 1}).strip())'


def test_fixture_loads_a_script_in_its_declared_environment(hexchat_client, cold_cache, tmp_path):
    path = write_script(tmp_path, "toml.py", ["tomli-w"], BODY)
    script = hexchat_client.load(path)
    assert script.state.value == "running", script.load_error
    assert "toml says k = 1" in hexchat_client.lines()
    assert script.python.startswith(str(cold_cache))


def test_check_honours_metadata_and_reports_what_cannot_be_installed(cold_cache, tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    write_script(folder, "toml.py", ["tomli-w"], BODY)
    write_script(folder, "typo.py", ["tomli-w-hexsandbox-typo"], BODY)
    report = tmp_path / "check.json"
    subprocess.run([sys.executable, "-m", "hexsandbox.cli", "check", str(folder), "--json", str(report)],
                   capture_output=True, text=True, timeout=600, env=dict(os.environ))
    results = {r["script"]: r for r in json.loads(report.read_text())}
    assert results["toml.py"]["verdict"] == "ok", results["toml.py"]
    assert any("toml says k = 1" in line for line in results["toml.py"]["printed"])
    assert results["typo.py"]["verdict"] == "failed"
    assert "typo.py not loaded: installing failed:" in json.dumps(results["typo.py"])
