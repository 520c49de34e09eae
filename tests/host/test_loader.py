"""The loader's Host on the emulator: the start line, and which Python a
worker runs (hexsandbox.ini's per-script, then global, then the loader's)."""

import os
import sys

import pytest

from hexsandbox import __version__
from hexsandbox.client import State
from hexsandbox.config import load_settings
from hexsandbox.emulator import Emulator
from hexsandbox.loader import SETTLE_POLL_MS, Host

GOOD = '__module_name__ = "{name}"\nimport hexchat\nhexchat.hook_command("{name}", lambda w, we, u: 3)\n'
SLOW = ('__module_name__ = "slow"\nimport time, os\n'
        'while not os.path.exists(os.path.join(os.path.dirname(__plugin_file), "go")): time.sleep(0.01)\n')
WHICH = ('__module_name__ = "{name}"\nimport hexchat, sys\n'
         'hexchat.hook_command("WHICH{name}", lambda w, we, u: hexchat.prnt("{name} runs " + sys.executable) or 3)\n')

# The venv's interpreter under its three names: the same Python, told apart
# by the sys.executable a worker reports.
VENV_BIN = os.path.dirname(sys.executable)
LOADER_PY, GLOBAL_PY, SCRIPT_PY = (os.path.join(VENV_BIN, n) for n in ("python", "python3", "python3.11"))


@pytest.fixture
def world(tmp_path):
    emu = Emulator(config_dir=str(tmp_path))
    emu.connect()
    emu.join("#test", users=["alice"])
    folder = tmp_path / "sandbox"
    folder.mkdir()
    hosts = []

    def start(scripts, ini="", python=None):
        for name, source in scripts.items():
            (folder / name).write_text(source)
        if ini:
            (folder / "hexsandbox.ini").write_text(ini)
        host = Host(emu, str(tmp_path), load_settings(str(tmp_path)), python=python, wakeup="test")
        hosts.append(host)
        host.autoload()
        return host

    yield emu, folder, start
    for host in hosts:
        host.close()


def _lines(emu, context=None):
    """Printed lines of a tab (default: the one the user looks at), as the
    user reads them (prnt has no nick column)."""
    context = emu.front_context() if context is None else context
    return [line[1:] if line.startswith("\t") else line for line in emu.lines(context)]


def _settle(emu, host):
    """Autoload is over (every script loaded or failed, none still waiting
    for its environment or interpreter check); then the next settle check
    runs (virtual clock) and prints the line."""
    emu.run_until(lambda: not host.environments.pending()
                  and all(s.state is not State.STARTING for s in host.autoloaded), 20)
    emu.advance(SETTLE_POLL_MS)
    emu.pump()


def test_start_line_names_loaded_and_failed_scripts_once_autoload_settled(world):
    emu, folder, start = world
    host = start({"greeter.py": GOOD.format(name="greeter"), "logger.py": GOOD.format(name="logger"),
                  "weather.py": "import nosuchmodule_xyz\n"})
    before = [line for line in _lines(emu) if line.startswith("hexsandbox ")]
    assert before == [], "not before the loads have settled"
    _settle(emu, host)
    told = [line for line in _lines(emu) if line.startswith("hexsandbox ")]
    assert told == [f"hexsandbox {__version__}: 2 scripts sandboxed (greeter, logger); "
                    f"1 failed to load (weather.py), see /sandbox list; /sandbox help"]
    emu.advance(1000)
    assert [line for line in _lines(emu) if line.startswith("hexsandbox ")] == told, "said once"


def test_start_line_waits_for_a_slow_load(world, tmp_path):
    emu, folder, start = world
    host = start({"slow.py": SLOW.replace("__plugin_file", repr(str(folder / "slow.py"))),
                  "quick.py": GOOD.format(name="quick")})
    quick = host.sandbox.find("quick.py")
    emu.run_until(lambda: quick.state is State.RUNNING, 20)
    emu.advance(SETTLE_POLL_MS * 4)
    assert not [line for line in _lines(emu) if line.startswith("hexsandbox ")], \
        "slow is still loading: no line yet"
    (folder / "go").write_text("")
    _settle(emu, host)
    assert f"hexsandbox {__version__}: 2 scripts sandboxed (quick, slow); /sandbox help" in _lines(emu)


def test_start_line_with_no_scripts(world):
    emu, folder, start = world
    start({})
    assert (f"hexsandbox {__version__}: no scripts sandboxed yet (put them in {folder}); "
            f"/sandbox help") in _lines(emu)


def _which(emu, name):
    emu.type(f"/WHICH{name}", "#test")
    emu.pump()
    return [line for line in _lines(emu, "#test") if line.startswith(f"{name} runs ")]


def test_python_precedence_script_then_global_then_loader(world):
    """And /sandbox status -v names the interpreter in use."""
    emu, folder, start = world
    ini = f"[defaults]\npython = {GLOBAL_PY}\n[script:own]\npython = {SCRIPT_PY}\n"
    host = start({"own.py": WHICH.format(name="own"), "other.py": WHICH.format(name="other")},
                 ini=ini, python=LOADER_PY)
    _settle(emu, host)
    assert _which(emu, "own") == [f"own runs {SCRIPT_PY}"]
    assert _which(emu, "other") == [f"other runs {GLOBAL_PY}"]
    emu.set_context(emu.context_of("#test"))
    n = len(_lines(emu, "#test"))
    host.commands.run(["status", "-v"])
    out = _lines(emu, "#test")[n:]
    assert f"hexsandbox: workers run {GLOBAL_PY}." in out
    assert f"hexsandbox: own runs {SCRIPT_PY}." in out
    assert not any(line.startswith("hexsandbox: other ") for line in out)


def test_loader_python_when_the_ini_names_none(world):
    emu, folder, start = world
    host = start({"plain.py": WHICH.format(name="plain")}, python=LOADER_PY)
    _settle(emu, host)
    assert _which(emu, "plain") == [f"plain runs {LOADER_PY}"]


def test_a_python_that_is_not_there_is_one_line_and_the_next_choice(world):
    emu, folder, start = world
    host = start({"plain.py": WHICH.format(name="plain")},
                 ini="[defaults]\npython = /no/such/python\n", python=LOADER_PY)
    _settle(emu, host)
    assert ("hexsandbox: hexsandbox.ini [defaults]: python = '/no/such/python' is not the full path "
            "of an installed Python; using the default.") in _lines(emu)
    assert _which(emu, "plain") == [f"plain runs {LOADER_PY}"]


def test_autoload_never_blocks_the_main_loop(world):
    """Autoloaded scripts load in the background (sandbox.starting): a top
    level that runs for a long time holds HexChat's main loop for none of
    it, where /load would wait up to the deadline (here 5 s)."""
    import time

    emu, folder, start = world
    turns = []  # how long each piece of main-loop work took
    queue_work = emu.call_soon

    def timed(fn):
        def run():
            began = time.monotonic()
            fn()
            turns.append(time.monotonic() - began)
        queue_work(run)

    emu.call_soon = timed
    started = time.monotonic()
    host = start({"slow.py": SLOW.replace("__plugin_file", repr(str(folder / "slow.py"))),
                  "quick.py": GOOD.format(name="quick")},
                 ini="[defaults]\ndeadline_ms = 5000\n")
    slow, quick = host.sandbox.find("slow.py"), host.sandbox.find("quick.py")
    assert time.monotonic() - started < 1.0, "autoload itself waited for the workers"
    # Until quick has loaded and slow's "loading" (its top level began) was served.
    emu.run_until(lambda: quick.state is State.RUNNING and slow.session is not None
                  and slow.session.popped_bytes > 0, 20)
    longest = max(turns)
    assert slow.state is State.STARTING, "slow.py is still in its top level"
    assert longest < 1.0, f"a piece of main-loop work took {longest:.2f} s during autoload"
    (folder / "go").write_text("")
    _settle(emu, host)
    assert slow.state is State.RUNNING


def test_a_script_unloaded_while_it_is_still_being_started_leaves_no_process(world):
    """Unloaded before its worker came back from the starter thread: the
    worker is ended when it does, whatever its top level managed to run."""
    emu, folder, start = world
    pidfile = folder / "pid"
    host = start({"forever.py": f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                                "time.sleep(3600)\n"})
    forever = host.sandbox.find("forever.py")
    assert forever.worker is None, "still being started"
    host.sandbox.unload(forever)
    assert forever.dead and forever.state is State.STOPPED
    # The starter works in order: once a later load is back, the earlier one was handled.
    (folder / "after.py").write_text(GOOD.format(name="after"))
    after = host.sandbox.load(str(folder / "after.py"), background=True)
    emu.run_until(lambda: after.state is State.RUNNING, 20)
    if pidfile.exists():  # its top level ran before the kill: that process must be gone
        pid = int(pidfile.read_text())
        emu.run_until(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), 10)
    assert forever not in host.sandbox.scripts


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
