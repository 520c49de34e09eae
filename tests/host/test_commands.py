"""The /sandbox command's logic, on the emulator (the e2e suite runs it in HexChat)."""

import os
import shutil

from hexsandbox import __version__
from hexsandbox.client import State
from hexsandbox.commands import SandboxCommands

GOOD = '__module_name__ = "good"\n__module_version__ = "3"\nimport hexchat\nhexchat.hook_command("GOODCMD", lambda w, we, u: 3)\n'


def _commands(client):
    # As the /sandbox hook runs: in the tab where the user typed it.
    client.emu.set_context(client.emu.context_of("#test"))
    return SandboxCommands(client.sandbox, client.config_dir, wakeup="test", python="py")


def _out(client, before):
    return client.lines("#test")[before:]


def test_load_list_unload_and_errors(hexchat_client):
    cmds = _commands(hexchat_client)
    folder = os.path.join(hexchat_client.config_dir, "sandbox")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "good.py"), "w") as f:
        f.write(GOOD)
    n = len(hexchat_client.lines("#test"))
    cmds.run(["load", "good.py"])
    script = hexchat_client.sandbox.find("good.py")
    hexchat_client.wait_for(lambda: script.state is State.RUNNING)
    cmds.run(["list"])
    out = _out(hexchat_client, n)
    assert out[0].startswith("hexsandbox: starting good.py (pid ")
    header = out[1].split()
    assert header == ["Name", "Version", "State", "PID", "RSS", "Hooks", "Late", "Crashes"]
    row = out[2].split()
    assert row[:3] == ["good", "3", "running"] and row[3] == str(script.pid) and row[-3:] == ["1", "0", "0"]
    assert row[5] == "MB"
    n = len(hexchat_client.lines("#test"))
    cmds.run(["unload", "nosuch"])
    cmds.run(["bogus"])
    cmds.run(["load"])
    cmds.run(["load", "missing.py"])
    assert _out(hexchat_client, n) == [
        "hexsandbox: no sandboxed script called 'nosuch'. /sandbox list shows them.",
        "hexsandbox: unknown command 'bogus'. Type /sandbox help.",
        "hexsandbox: load what? Usage: /sandbox load <file.py>",
        "hexsandbox: no such script: %s" % os.path.join(folder, "missing.py"),
    ]
    cmds.run(["unload", "good"])
    hexchat_client.wait_for(lambda: script.dead)
    assert script.state is State.STOPPED


def test_stack_status_help_restart(hexchat_client):
    cmds = _commands(hexchat_client)
    script = hexchat_client.load(GOOD)
    n = len(hexchat_client.lines("#test"))
    cmds.run(["stack", "good"])
    out = _out(hexchat_client, n)
    assert out[0] == "hexsandbox: stack of good (pid %d):" % script.pid
    assert any("callback thread" in line for line in out)
    cmds.run(["help"])
    text = "\n".join(_out(hexchat_client, n))
    assert "MIGRATE <file>" in text
    cmds.run(["restart", "good"])

    def restarted():
        fresh = hexchat_client.sandbox.find("good")
        return fresh is not None and fresh is not script and fresh.state is State.RUNNING

    hexchat_client.wait_for(restarted)
    hexchat_client.wait_for(lambda: script.dead)
    assert not hexchat_client.sandbox.reports


def test_migrate_moves_the_file_and_keeps_prefs(hexchat_client):
    addons = os.path.join(hexchat_client.config_dir, "addons")
    os.makedirs(addons, exist_ok=True)
    src = os.path.join(addons, "counter.py")
    with open(src, "w") as f:
        f.write('__module_name__ = "counter"\nimport hexchat\n'
                'hexchat.set_pluginpref("count", (hexchat.get_pluginpref("count") or 0) + 1)\n')
    hexchat_client.emu.set_pluginpref("count", 41)   # what the in-process run left
    cmds = _commands(hexchat_client)
    cmds.run(["migrate", "counter.py"])
    target = os.path.join(hexchat_client.config_dir, "sandbox", "counter.py")
    assert os.path.exists(target) and not os.path.exists(src)
    script = hexchat_client.sandbox.find("counter.py")
    hexchat_client.wait_for(lambda: script.state is State.RUNNING)
    hexchat_client.settle(script)
    assert hexchat_client.emu.get_pluginpref("count") == 42
    shutil.rmtree(addons)


HANGS = '''
__module_name__ = "stuck"
import hexchat, threading, time
def poll_forever():
    while True:
        time.sleep(0.05)
threading.Thread(target=poll_forever, name="poller", daemon=True).start()
def hang(word, word_eol, userdata):
    end = time.monotonic() + 3
    while time.monotonic() < end:
        pass
    return hexchat.EAT_ALL
hexchat.hook_command("HANG", hang)
'''


def test_stack_shows_the_scripts_own_frames_and_threads(hexchat_client):
    script = hexchat_client.load(HANGS, deadline_ms=100)
    cmds = _commands(hexchat_client)
    hexchat_client.type("/HANG", "#test")   # late after 100 ms, still spinning
    n = len(hexchat_client.lines("#test"))
    cmds.run(["stack", "stuck"])
    out = _out(hexchat_client, n)
    assert out[0] == "hexsandbox: stack of stuck (pid %d):" % script.pid
    files = [line.split('"')[1] for line in out if line.strip().startswith("File ")]
    assert files and set(files) == {script.path}, "only the script's own frames"
    assert any("in hang" in line for line in out) and any("in poll_forever" in line for line in out)
    assert any(line.startswith("--- poller") for line in out) and \
        any(line.startswith("--- callback thread") for line in out)
    assert not any("multiprocess" in line or "worker.py" in line or "threading.py" in line for line in out)
    assert out[-1].startswith("hexsandbox: ") and "frames of hexsandbox's own machinery hidden; " \
        "/sandbox stack stuck -v shows them." in out[-1]
    n = len(hexchat_client.lines("#test"))
    cmds.run(["stack", "stuck", "-v"])
    full = _out(hexchat_client, n)
    hidden = int(out[-1].split()[1])
    assert sum(1 for line in full if line.strip().startswith("File ")) == len(files) + hidden
    assert any("worker.py" in line for line in full) and any("threading.py" in line for line in full)
    hexchat_client.wait_for(lambda: not script.late, 10, "stuck to answer again")


def test_status_speaks_plainly_and_details_come_with_v(hexchat_client):
    hexchat_client.load(GOOD)
    broken = hexchat_client.load("import os\nos._exit(3)\n")
    hexchat_client.wait_for(lambda: broken.dead and broken.state is State.FAILED)  # died loading
    hexchat_client.sandbox.memory_limit_mb = 1024
    cmds = _commands(hexchat_client)
    n = len(hexchat_client.lines("#test"))
    cmds.run(["status"])
    plain = _out(hexchat_client, n)
    folder = os.path.join(hexchat_client.config_dir, "sandbox")
    assert plain == [
        "hexsandbox %s: 1 of 2 scripts running, each in its own process: good; not running: "
        "%s (failed)." % (__version__, os.path.basename(broken.path)),
        "hexsandbox: a script that takes more than 2000 ms to answer is not waited for: "
        "HexChat goes on, and you are told.",
        "hexsandbox: each script may use up to 1024 MB of memory; past that its allocations fail, "
        "never HexChat's.",
        "hexsandbox: a script that crashes stays stopped (restart = no); /sandbox restart NAME "
        "starts it again.",
        "hexsandbox: scripts folder %s; settings in its hexsandbox.ini." % folder,
        "hexsandbox: /sandbox status -v shows how it works inside.",
    ]
    words = " ".join(plain)
    for mechanism in ("hook_fd", "spin", "wake", "pipe", "python", "interpreter"):
        assert mechanism not in words.lower()
    n = len(hexchat_client.lines("#test"))
    cmds.run(["status", "-v"])
    verbose = _out(hexchat_client, n)
    assert verbose[:5] == plain[:5]
    assert "hexsandbox: main-thread wake-up: test." in verbose
    assert any(line.startswith("hexsandbox: polling a pipe before sleeping on it (spin_us): ")
               for line in verbose)
    assert "hexsandbox: workers run py." in verbose


def test_status_restart_policy_in_words(tmp_path):
    from hexsandbox.client import RestartPolicy
    from hexsandbox.testing import EmulatedClient

    with EmulatedClient(str(tmp_path), restart=RestartPolicy()) as client:
        client.emu.set_context(client.emu.context_of("#test"))
        cmds = SandboxCommands(client.sandbox, client.config_dir)
        n = len(client.lines("#test"))
        cmds.run(["status"])
        assert ("hexsandbox: a script that crashes is started again after 1 s, waiting longer each "
                "time; after 4 crashes in 5 minutes it stays stopped.") in _out(client, n)
