"""Scripts load and unload in a worker as HexChat's Python plugin runs them."""

import os

from hexsandbox.client import State


def test_metadata_globals_and_argv(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "meta"
        __module_version__ = "1.2"
        __module_description__ = "shows what a script sees"
        import sys
        import hexchat
        print("argv", sys.argv, "name", __name__, "file" if "__file__" in globals() else "no-file",
              "plugin" if "__plugin" in globals() else "no-plugin")
    ''')
    assert script.state is State.RUNNING
    assert (script.name, script.version, script.description) == ("meta", "1.2", "shows what a script sees")
    line = hexchat_client.wait_for_line("argv", "#test")
    assert line == "argv ['<hexchat>'] name __main__ no-file plugin"
    assert any(entry[1] == "meta" for entry in _gui(hexchat_client))


def _gui(client):
    return [tuple(e) if not isinstance(e, dict) else (e["filename"], e["name"]) for e in client.emu.plugin_gui]


def test_missing_module_name_is_a_clear_error(hexchat_client):
    script = hexchat_client.load('''
        import hexchat
        hexchat.hook_command("NONAME", lambda w, we, u: hexchat.prnt("should not run"))
        hexchat.hook_unload(lambda ud: hexchat.prnt("discarded, unload hook ran"))
    ''')
    assert script.state is State.FAILED
    hexchat_client.wait_for(lambda: script.dead, what="the worker to exit")
    lines = hexchat_client.lines("#test")
    assert lines[-2:] == ["Failed to load module: __module_name__ must be set", "discarded, unload hook ran"]
    assert "NONAME" not in str(hexchat_client.emu.hook_names() if hasattr(hexchat_client.emu, "hook_names") else "")
    assert not script.backend_hooks
    assert not [r for r in hexchat_client.sandbox.reports if r.kind == "crash"]


def test_exception_at_load_prints_error_and_traceback(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "broken"
        raise ValueError("boom")
    ''')
    assert script.state is State.FAILED
    lines = hexchat_client.lines("#test")
    assert "Failed to load module: boom" in lines
    assert any(line.startswith("Traceback") for line in lines)
    assert lines[-1] == "ValueError: boom"
    assert script.load_error == "ValueError: boom"


def test_python2_script_gets_a_clear_verdict(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "old"
        print "hello"
    ''')
    assert script.state is State.FAILED
    assert script.load_error.startswith("Python 2 only:")


def test_callback_exception_is_printed_and_worker_keeps_running(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "oops"
        import hexchat
        def boom(word, word_eol, userdata):
            return 1 / 0
        def fine(word, word_eol, userdata):
            hexchat.prnt("still here")
            return hexchat.EAT_ALL
        hexchat.hook_command("BOOM", boom)
        hexchat.hook_command("FINE", fine)
    ''')
    hexchat_client.type("/BOOM", "#test")
    lines = hexchat_client.lines("#test")
    assert "ZeroDivisionError: division by zero" in lines
    tb = lines[lines.index("Traceback (most recent call last):"):]
    assert "hexsandbox" not in "\n".join(tb), "the worker's own frames are not shown"
    hexchat_client.type("/FINE", "#test")
    assert "still here" in hexchat_client.lines("#test")
    assert script.state is State.RUNNING and not script.dead


def test_unload_runs_unload_hooks_then_worker_exits(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "bye"
        import hexchat
        hexchat.hook_command("HI", lambda w, we, u: hexchat.prnt("hi") or hexchat.EAT_ALL)
        def unload(userdata):
            hexchat.prnt("unloading " + userdata)
            hexchat.set_pluginpref("bye_saved", 7)
        hexchat.hook_unload(unload, "now")
    ''')
    pid = script.pid
    hexchat_client.unload(script)
    assert "unloading now" in hexchat_client.lines("#test")
    assert hexchat_client.emu.get_pluginpref("bye_saved") == 7
    assert script.exitcode == 0 and script.state is State.STOPPED
    assert not os.path.exists(f"/proc/{pid}/status") or "zombie" in open(f"/proc/{pid}/status").read().lower()
    assert not hexchat_client.sandbox.reports
    hexchat_client.type("/HI", "#test")
    assert "hi" not in hexchat_client.lines("#test")


def test_reload_gives_a_fresh_worker(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "again"
        import hexchat, os
        hexchat.prnt("pid %d" % os.getpid())
    ''')
    fresh = hexchat_client.sandbox.reload(script)
    hexchat_client.wait_for(lambda: fresh.state is State.RUNNING)
    hexchat_client.settle(fresh)
    pids = [line for line in hexchat_client.lines("#test") if line.startswith("pid ")]
    assert len(pids) == 2 and pids[0] != pids[1]
    hexchat_client.wait_for(lambda: script.dead)
    assert fresh.pid != script.pid


def test_loading_the_same_file_twice_is_refused(hexchat_client, tmp_path):
    import pytest
    from hexsandbox.client import SandboxError

    path = tmp_path / "once.py"
    path.write_text("__module_name__ = 'once'\n")
    hexchat_client.load(str(path))
    with pytest.raises(SandboxError, match="already loaded"):
        hexchat_client.load(str(path))


def test_xchat_module_name_works(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "legacy"
        import xchat
        xchat.prnt("xchat says %d" % xchat.EAT_XCHAT)
    ''')
    assert "xchat says 1" in hexchat_client.lines("#test")


def test_configured_python_executable_is_used(hexchat_client, tmp_path):
    import stat
    import sys

    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text("#!/bin/sh\nHEXSANDBOX_TEST_WRAPPER=used exec %s \"$@\"\n" % sys.executable)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    hexchat_client.sandbox.python = str(wrapper)
    hexchat_client.load('''
        __module_name__ = "which"
        import os, hexchat
        hexchat.prnt("wrapper " + os.environ.get("HEXSANDBOX_TEST_WRAPPER", "not used"))
    ''')
    assert "wrapper used" in hexchat_client.lines("#test")
