"""hexsandbox inside real HexChat 2.16: install, autoload, /sandbox, isolation, shutdown."""

import os
import signal
import time

import pytest

from harness import plugins_window
from harness.procs import is_alive

ECHO = '''
__module_name__ = "echo"
__module_version__ = "1.0"
__module_description__ = "answers !echo"
import hexchat, os
hexchat.set_pluginpref("echo_pid_seen", 1)
def on_msg(word, word_eol, userdata):
    if word[1].startswith("!echo "):
        hexchat.prnt("sandboxed saw %s in %s" % (word[1], hexchat.get_info("channel")))
        hexchat.command("say echo " + word[1][6:])
hexchat.hook_print("Channel Message", on_msg)
def where(word, word_eol, userdata):
    hexchat.prnt("echo runs in pid %d" % os.getpid())
    return hexchat.EAT_ALL
hexchat.hook_command("ECHOPID", where)
'''

PROBE = '''
__module_name__ = "probe"
import hexchat, time
state = {"last": None, "max_gap": 0.0, "ticks": 0}
def tick(userdata):
    now = time.monotonic()
    if state["last"] is not None:
        state["max_gap"] = max(state["max_gap"], now - state["last"])
    state["last"] = now
    state["ticks"] += 1
    return True
hexchat.hook_timer(10, tick)
'''


def _ppid(pid):
    with open(f"/proc/{pid}/status") as f:
        return int([l for l in f if l.startswith("PPid:")][0].split()[1])


def test_spawned_script_is_a_child_of_hexchat(sandboxed_hexchat_factory, scripted_server):
    """``[sandbox] start = spawn``: a fresh interpreter per worker, HexChat's child."""
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": ECHO}, ini="[sandbox]\nstart = spawn\n")
    (state,) = hc.wait_running("echo")
    assert _ppid(state["pid"]) == hc.pid
    with open(f"/proc/{state['pid']}/cmdline", "rb") as f:
        assert b"echo.py" in f.read(), "spawned with its config on the command line"
    since = scripted_server.mark()
    scripted_server.send(":alice!alice@example.org PRIVMSG #test :!echo spawned")
    scripted_server.wait_for("PRIVMSG #test :echo spawned", since=since)


def _front_lines(hc):
    return [l for lines in hc.transcript().values() for l in lines]


def test_sandboxed_script_runs_in_its_own_process(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": ECHO})
    (state,) = hc.wait_running("echo")
    assert state["pid"] != hc.pid
    ppid = _ppid(state["pid"])
    with open(f"/proc/{ppid}/cmdline", "rb") as f:
        assert b"hexsandbox.zygote.server" in f.read(), "forked by the zygote (start = zygote)"
    assert _ppid(ppid) == hc.pid, "the zygote is a child of HexChat"
    since = scripted_server.mark()
    scripted_server.send(":alice!alice@example.org PRIVMSG #test :!echo hello there")
    scripted_server.wait_for("PRIVMSG #test :echo hello there", since=since)
    assert "sandboxed saw !echo hello there in #test" in [l.lstrip("\t") for l in hc.transcript()["#test"]]
    conf = open(os.path.join(hc.config_dir, "addon_python.conf")).read()
    assert "echo_pid_seen = 1" in conf, "prefs land in the Python plugin's own store"


@pytest.mark.parametrize("ini, reported", [
    ("wakeup = g_idle_add", "hexsandbox: main-thread wake-up: g_idle_add."),
    ("wakeup = timer", "hexsandbox: main-thread wake-up: timer (20 ms polling (as hexsandbox.ini asks))."),
    ("spin_us = 200", "hexsandbox: polling a pipe before sleeping on it (spin_us): 200 us."),
])
def test_wakeup_and_spin_settings_work(sandboxed_hexchat_factory, scripted_server, ini, reported):
    """Where hexchat_hook_fd is missing: GLib's idle source, or a timer as a
    last resort; and the adaptive spin (off by default on 2 CPUs). /sandbox
    status says which, and a script's one-way calls from its own thread
    (which need the wake-up: no hook is waiting for them) and its hooks
    still work."""
    threaded = ECHO + '''
import threading
def later(word, word_eol, userdata):
    threading.Thread(target=lambda: hexchat.command("say from a thread")).start()
    return hexchat.EAT_ALL
hexchat.hook_command("LATER", later)
'''
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": threaded}, ini=f"[defaults]\n{ini}\n")
    hc.wait_running("echo")
    hc.command("sandbox status -v", "#test")
    scripted_server.roundtrip()
    assert reported in [l.lstrip("\t") for l in hc.transcript()["#test"]]
    since = scripted_server.mark()
    scripted_server.send(":alice!alice@example.org PRIVMSG #test :!echo fallback")
    scripted_server.wait_for("PRIVMSG #test :echo fallback", since=since)
    hc.command("LATER", "#test")
    scripted_server.wait_for("PRIVMSG #test :from a thread", since=since)


def test_a_bad_setting_is_one_line_and_scripts_still_start(sandboxed_hexchat_factory):
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": ECHO}, ini="[defaults]\ndeadline_ms = fast\n")
    hc.wait_running("echo")
    told = [l.lstrip("\t") for l in _front_lines(hc) if "hexsandbox.ini" in l]
    assert told == ["hexsandbox: hexsandbox.ini [defaults]: deadline_ms = 'fast' is not a whole number "
                    "from 10 to 60000; using the default."]


def test_sandbox_command_and_plugin_window_unload(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": ECHO})
    (state,) = hc.wait_running("echo")
    hc.command("sandbox list", "#test")
    hc.command("sb status -v", "#test")
    scripted_server.roundtrip()
    lines = [l.lstrip("\t") for l in hc.transcript()["#test"]]
    header = [l for l in lines if l.startswith("Name ")]
    assert header and header[0].split() == ["Name", "Version", "State", "PID", "RSS", "Hooks", "Late", "Crashes"]
    row = [l for l in lines if l.startswith("echo ")][0].split()
    assert row[:4] == ["echo", "1.0", "running", str(state["pid"])]
    assert any("main-thread wake-up: hexchat_hook_fd" in l for l in lines)

    # Window > Plugins and Scripts lists it; its Unload button unloads it.
    path = os.path.join(hc.sandbox_dir, "echo.py")
    assert plugins_window.open_window(hc)
    listed = [r for r in plugins_window.rows(hc) if r["path"] == path]
    assert listed == [{"name": "echo", "version": "1.0", "file": "echo.py",
                       "description": "answers !echo", "path": path}]
    assert plugins_window.click_unload(hc, path)
    hc.wait_scripts(lambda st: not st, what="echo to be unloaded")
    assert not [r for r in plugins_window.rows(hc) if r["path"] == path], "gone from the window too"
    plugins_window.close_window(hc)
    assert not is_alive(state["pid"]) or _zombie(state["pid"])
    assert not any("Can't find a python plugin" in l for l in _front_lines(hc))

    hc.command("sandbox load echo.py", "#test")
    (again,) = hc.wait_running("echo")
    assert again["pid"] != state["pid"]
    hc.command("sandbox reload echo", "#test")
    hc.wait_scripts(lambda st: len(st) == 1 and st[0]["state"] == "running" and st[0]["pid"] != again["pid"],
                    what="echo to reload")
    hc.command("sandbox stack echo", "#test")
    scripted_server.roundtrip()
    assert any(l.lstrip("\t").startswith("hexsandbox: stack of echo") for l in hc.transcript()["#test"])


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "zombie" in f.read().lower()
    except FileNotFoundError:
        return True


ISOLATION_SCRIPTS = {
    "crasher.py": '''
__module_name__ = "crasher"
import hexchat, ctypes
def crash(word, word_eol, userdata):
    ctypes.string_at(0)
hexchat.hook_command("SEGV", crash)
''',
    "spinner.py": '''
__module_name__ = "spinner"
import hexchat
def spin(word, word_eol, userdata):
    while True:
        pass
hexchat.hook_command("SPIN", spin)
''',
    "sleeper.py": '''
__module_name__ = "sleeper"
import hexchat, time
def on_msg(word, word_eol, userdata):
    if word[1] == "sleepnow":
        time.sleep(30)
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", on_msg)
''',
    "flooder.py": '''
__module_name__ = "flooder"
import hexchat, threading
def flood(word, word_eol, userdata):
    def work(n):
        for i in range(500):
            hexchat.prnt("flood %d %d" % (n, i))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    def done():
        for t in threads:
            t.join()
        hexchat.prnt("flood finished")
    threading.Thread(target=done).start()
    return hexchat.EAT_ALL
hexchat.hook_command("FLOOD", flood)
''',
    "echo.py": ECHO,
}


def test_isolation_crash_spin_sleep_flood(sandboxed_hexchat_factory, scripted_server):
    deadline_ms = 300
    hc = sandboxed_hexchat_factory(sandbox=ISOLATION_SCRIPTS, scripts={"probe.py": PROBE},
                                   ini=f"[defaults]\ndeadline_ms = {deadline_ms}\nrestart = no\n")
    states = hc.wait_running("crasher", "spinner", "sleeper", "flooder", "echo")
    pids = {s["name"]: s["pid"] for s in states}
    hc.eval("script('probe')['state'].update(max_gap=0.0, last=None)")

    def after_next_tick():
        """Each hang may stall HexChat once, for at most the deadline. Two
        hangs landing in the same main-loop iteration would stall it twice
        in a row, so the triggers are spaced by one tick of the probe."""
        ticks = hc.eval("script('probe')['state']['ticks']")
        while hc.eval("script('probe')['state']['ticks']") <= ticks:
            pass

    hc.command("SEGV", "#test")
    after_next_tick()
    hc.command("SPIN", "#test")
    after_next_tick()
    scripted_server.send(":alice!a@example.org PRIVMSG #test :sleepnow")
    scripted_server.roundtrip()
    after_next_tick()
    hc.command("FLOOD", "#test")
    scripted_server.roundtrip()

    # Everyone else keeps working while those three are dead or stuck.
    since = scripted_server.mark()
    scripted_server.send(":bob!b@example.org PRIVMSG #test :!echo still here")
    scripted_server.wait_for("PRIVMSG #test :echo still here", since=since, timeout=20)

    def flood_done():
        return any(l.endswith("flood finished") for l in hc.transcript()["#test"])

    end = time.monotonic() + 60
    while not flood_done():
        assert time.monotonic() < end, "flood did not finish"
        scripted_server.roundtrip()
    flood_lines = [l for l in hc.transcript()["#test"] if l.lstrip("\t").startswith("flood ")]
    assert len(flood_lines) == 8 * 500 + 1

    state = {s["name"]: s for s in hc.wait_scripts(
        lambda st: any(s["name"] == "crasher" and s["state"] == "crashed" for s in st)
        and any(s["name"] == "spinner" and s["late"] for s in st)
        and any(s["name"] == "sleeper" and s["late"] for s in st), what="crash and lateness")}
    assert state["echo"]["state"] == "running" and state["flooder"]["state"] == "running"

    reports = hc.reports()
    kinds = sorted((r["script"], r["kind"]) for r in reports)
    assert kinds == [("crasher", "crash"), ("sleeper", "late"), ("spinner", "late")], reports
    crash_text = [r["text"] for r in reports if r["kind"] == "crash"][0]
    assert crash_text.startswith("hexsandbox: crasher crashed (SIGSEGV) in crasher.py line 5, crash();")
    shown = _front_lines(hc)
    for r in reports:
        assert sum(1 for l in shown if l.lstrip("\t") == r["text"]) == 1, "each report shown once"

    probe = hc.eval("script('probe')['state']")
    assert probe["ticks"] > 10
    assert probe["max_gap"] <= (deadline_ms + 50) / 1000, probe

    # Stuck workers are killed at shutdown; nothing is left behind.
    result = hc.stop()
    assert not result.leftovers, result.leftovers
    for name, pid in pids.items():
        assert not is_alive(pid) or _zombie(pid), f"{name} worker {pid} survived HexChat"


def test_hexchat_quits_cleanly_with_sandboxed_scripts(sandboxed_hexchat_factory):
    hc = sandboxed_hexchat_factory(sandbox={"echo.py": ECHO, "other.py": ECHO.replace('"echo"', '"other"')})
    states = hc.wait_running("echo", "other")
    pids = [s["pid"] for s in states]
    children_before = {p.pid for p in hc.children()}
    assert set(pids) <= children_before
    result = hc.stop()
    assert not result.leftovers, result.leftovers
    assert not result.still_alive
    for pid in pids:
        assert not is_alive(pid) or _zombie(pid)


def test_stack_of_a_stuck_script(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(sandbox={"spinner.py": ISOLATION_SCRIPTS["spinner.py"]},
                                   ini="[defaults]\ndeadline_ms = 200\n")
    (state,) = hc.wait_running("spinner")
    hc.command("SPIN", "#test")
    hc.command("sandbox stack spinner", "#test")
    scripted_server.roundtrip()
    lines = [l.lstrip("\t") for l in hc.transcript()["#test"]]
    assert any("did not answer command 'SPIN' within 200 ms" in l for l in lines)
    start = [i for i, l in enumerate(lines) if l.startswith("hexsandbox: stack of spinner")][0]
    assert any(", in spin" in l for l in lines[start:]), lines[start:]
    os.kill(state["pid"], signal.SIGKILL)


COUNTER = '''
__module_name__ = "counter"
import hexchat, os
n = (hexchat.get_pluginpref("counter_runs") or 0) + 1
hexchat.set_pluginpref("counter_runs", n)
hexchat.prnt("counter run %d in pid %d" % (n, os.getpid()))
def bye(userdata):
    hexchat.set_pluginpref("counter_saved_on_unload", n)
hexchat.hook_unload(bye)
'''


def test_migrate_moves_an_in_process_script_and_keeps_its_prefs(sandboxed_hexchat_factory, scripted_server):
    hc = sandboxed_hexchat_factory(scripts={"counter.py": COUNTER})
    assert hc.eval("script('counter')['n']") == 1, "ran in process first"
    hc.command("sandbox migrate counter.py", "#test")
    (state,) = hc.wait_running("counter")
    assert state["pid"] != hc.pid
    assert not os.path.exists(os.path.join(hc.addons_dir, "counter.py"))
    assert os.path.exists(os.path.join(hc.sandbox_dir, "counter.py"))
    scripted_server.roundtrip()
    lines = [l.lstrip("\t") for l in hc.transcript()["#test"]]
    assert f"counter run 2 in pid {state['pid']}" in lines, lines
    conf = open(os.path.join(hc.config_dir, "addon_python.conf")).read()
    assert "counter_runs = 2" in conf
    assert "counter_saved_on_unload = 1" in conf, "the in-process unload hook ran before the move"
