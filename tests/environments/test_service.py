"""Environments driven on the emulator's main thread, with real workers and
real installers: the same code path as inside HexChat (the e2e tests run it
there)."""

import os
import sys
import threading

import pytest

from hexsandbox.client import State
from hexsandbox.environments import build as build_module
from hexsandbox.environments.command import DepsCommand
from hexsandbox.environments.service import Environments
from hexsandbox.testing import EmulatedClient

from .conftest import write_script

TOML_BODY = 'import tomli_w\nhexchat.prnt("toml says " + tomli_w.dumps({"k": 1}).strip())'
ECHO = ('__module_name__ = "echo"\nimport hexchat\n'
        'hexchat.hook_command("ECHO", lambda w, we, u: hexchat.prnt("echo " + we[1]) or hexchat.EAT_ALL)\n')


@pytest.fixture
def client(cold_cache):
    with EmulatedClient() as c:
        os.makedirs(os.path.join(c.config_dir, "sandbox"), exist_ok=True)
        yield c


@pytest.fixture
def envs(client):
    return Environments(client.emu, client.config_dir, lambda: sys.executable, front_say(client.emu))


def front_say(emu):
    """What the loader gives: a line in the tab the user looks at."""
    def say(text):
        emu.set_context(emu.front_context())
        emu.prnt(text)
    return say


def starter(client, path):
    return lambda python: client.sandbox.load(path, python=python)


def loaded(client, name):
    return next((s for s in client.sandbox.scripts if os.path.basename(s.path) == name), None)


def test_install_runs_in_the_background_and_the_script_loads_after(client, envs, monkeypatch):
    gate = threading.Event()
    real_run = build_module.Build.run

    def gated_run(self):
        assert threading.current_thread() is not threading.main_thread()
        assert gate.wait(60)
        return real_run(self)

    monkeypatch.setattr(build_module.Build, "run", gated_run)
    echo = client.load(ECHO)
    path = write_script(client.config_dir, "toml.py", ["tomli-w"], TOML_BODY)
    assert envs.load(path, None, starter(client, path)) is None
    client.wait_for_line("hexsandbox: toml.py: installing tomli-w (1 package)...", timeout=60)
    assert client.lines()[-1] == "hexsandbox: toml.py: installing tomli-w (1 package)..."
    # HexChat's main thread goes on while the installer waits.
    client.type("/echo still here")
    client.settle(echo)
    assert client.lines()[-1] == "echo still here"
    assert loaded(client, "toml.py") is None
    gate.set()
    line = client.wait_for_line("toml.py: installing tomli-w (1 package)... done in", timeout=120)
    assert line.endswith(" s (uv).")
    client.wait_for_line("toml says k = 1", timeout=30)
    assert [e.kind for e in envs.events if e.script == "toml.py"] == ["built"]
    # Again: reused, at once, no line.
    client.unload(loaded(client, "toml.py"))
    before = len(client.lines())
    script = envs.load(path, None, starter(client, path))
    assert script is not None and client.lines()[before:] == []
    assert [e.kind for e in envs.events if e.script == "toml.py"] == ["built", "reused"]


def test_a_misspelled_package_is_one_line_and_touches_nothing_else(client, envs):
    echo = client.load(ECHO)
    path = write_script(client.config_dir, "typo.py", ["tomli-w-hexsandbox-typo"], TOML_BODY)
    envs.load(path, None, starter(client, path))
    line = client.wait_for_line("typo.py: installing tomli-w-hexsandbox-typo (1 package)... failed:",
                                timeout=120)
    assert line.endswith(". Not loaded.") and "tomli-w-hexsandbox-typo" in line.split("failed:")[1]
    assert loaded(client, "typo.py") is None
    client.type("/echo fine")
    client.settle(echo)
    assert client.lines()[-1] == "echo fine" and echo.state is State.RUNNING


def test_bad_metadata_is_one_line_and_no_worker(client, envs):
    path = os.path.join(client.config_dir, "broken.py")
    with open(path, "w") as f:
        f.write('# /// script\n# dependencies = ["tomli-w>>1"]\n# ///\n__module_name__ = "b"\n')
    assert envs.load(path, None, starter(client, path)) is None
    assert client.lines("#test")[-1] == ("hexsandbox: broken.py not loaded: 'tomli-w>>1' has a bad "
                                  "version specifier (e.g. requests>=2,<3)")
    assert client.sandbox.scripts == []


def test_missing_import_says_how_to_declare_it(client):
    script = client.load('__module_name__ = "needy"\nimport tomli_w\n')
    assert script.state is State.FAILED
    name = os.path.basename(script.path)
    assert client.lines()[-1] == (
        f"hexsandbox: {name} needs the module 'tomli_w'. Declare it in the script (a '# /// script' "
        f"block with dependencies = [\"tomli_w\"]) or type /sandbox deps {name} add tomli_w")


def test_deps_add_records_in_the_ini_and_loads_with_it(client, envs):
    folder = os.path.join(client.config_dir, "sandbox")
    path = os.path.join(folder, "needy.py")
    with open(path, "w") as f:
        f.write('__module_name__ = "needy"\n' + "import hexchat\n" + TOML_BODY + "\n")
    original = open(path).read()
    loads = []

    def load(p):
        loads.append(p)
        return envs.load(p, None, starter(client, p))

    def reload(script):
        client.sandbox.unload(script)
        return load(script.path)

    deps = DepsCommand(envs, client.sandbox, client.config_dir, load, reload,
                       lambda p: sys.executable, client.emu.prnt)
    deps.run("needy.py")
    assert client.lines()[-1] == f"hexsandbox: needy.py declares no dependencies; it runs {sys.executable}."
    deps.run("needy.py add tomli-w")
    assert "dependencies = tomli-w" in open(os.path.join(folder, "hexsandbox.ini")).read()
    assert open(path).read() == original     # the user's script is never edited
    client.wait_for_line("toml says k = 1", timeout=120)
    assert loads == [path]
    deps.run("needy")
    shown = client.lines()[-3:]
    assert shown[0] == "hexsandbox: needy.py needs: tomli-w (hexsandbox.ini)"
    assert shown[1].startswith("hexsandbox: needy.py environment: " + str(envs.root or ""))
    assert shown[2].startswith("hexsandbox: needy.py installed: tomli_w ")


def test_a_per_script_python_that_cannot_run_the_worker_is_one_line(client, envs):
    path = os.path.join(client.config_dir, "plain.py")
    with open(path, "w") as f:
        f.write('__module_name__ = "plain"\n')
    assert envs.load(path, "/usr/bin/python3", starter(client, path)) is None
    line = client.wait_for_line("hexsandbox: plain.py not loaded: ", "#test", timeout=60)
    assert line.startswith("hexsandbox: plain.py not loaded: /usr/bin/python3 cannot import hexsandbox ")
    assert line.endswith("install hexsandbox for that Python")
    assert client.sandbox.scripts == []
    # One that can: probed once, then loads (at once the next time).
    assert envs.load(path, sys.executable, starter(client, path)) is None
    client.wait_for(lambda: any(s.state is State.RUNNING for s in client.sandbox.scripts), 60)
    script = client.sandbox.scripts[0]
    assert script.python == sys.executable
    client.unload(script)
    assert envs.load(path, sys.executable, starter(client, path)) is not None


def test_an_environment_found_after_the_probe_needs_no_install_line(client, envs):
    from hexsandbox.environments.prepare import forget_probes

    path = write_script(client.config_dir, "toml.py", ["tomli-w"], TOML_BODY)
    envs.load(path, sys.executable, starter(client, path))   # a per-script python: probed first
    client.wait_for_line("toml.py: installing tomli-w (1 package)... done in", "#test", timeout=120)
    client.wait_for(lambda: loaded(client, "toml.py") is not None
                    and loaded(client, "toml.py").state is State.RUNNING, 30)
    client.unload(loaded(client, "toml.py"))
    forget_probes()                                          # as in a new HexChat session
    before = len(client.lines("#test"))
    assert envs.load(path, sys.executable, starter(client, path)) is None  # the probe runs first
    client.wait_for(lambda: loaded(client, "toml.py") is not None, 60)
    assert client.lines("#test")[before:] == []
    assert [e.kind for e in envs.events if e.script == "toml.py"] == ["built", "reused"]


def test_close_cancels_a_running_install_and_loads_nothing(client, envs, monkeypatch):
    started = threading.Event()
    real_run = build_module._Runner.run

    def noting_run(self, argv, what):
        if what == "installing":
            started.set()
        return real_run(self, argv, what)

    monkeypatch.setattr(build_module._Runner, "run", noting_run)
    path = write_script(client.config_dir, "toml.py", ["tomli-w"], TOML_BODY)
    envs.load(path, None, starter(client, path))
    assert started.wait(120)
    envs.close()
    client.settle()
    assert loaded(client, "toml.py") is None
