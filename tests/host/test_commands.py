"""The /sandbox command's logic, on the emulator (the e2e suite runs it in HexChat)."""

import os
import shutil

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
    cmds.run(["status"])
    cmds.run(["help"])
    text = "\n".join(_out(hexchat_client, n))
    assert "main-thread wake-up: test" in text and "MIGRATE <file>" in text
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
