"""Process lifecycle in real HexChat 2.16 (issue 8): no worker outlives,
blocks or is mistaken. Each test is one or more rows of the issue's table of
measured faults; rows that can share a HexChat run share it."""

import os
import re
import signal
import tempfile
import threading
import time

import pytest

from harness.procs import (chown_tree, descendants, e2e_user, is_alive, proc_info, remove_tree, send_signal,
                           wait_pid_exit)

# Every script starts a `sleep 1000` and a Python child at load: they must end
# with their worker, however it ends.
CHILDREN = '''
import subprocess, sys
_kids = [subprocess.Popen(["sleep", "1000"]),
         subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])]
'''


def _script(name, body):
    return f'__module_name__ = "{name}"\nimport hexchat, os, time\n{CHILDREN}\n{body}\n'


IDLE = _script("idle", "")
BUSY = _script("busy", '''
def spin(word, word_eol, userdata):
    while True:
        pass
hexchat.hook_command("SPIN", spin)''')
SLEEPER = _script("sleeper", '''
def nap(word, word_eol, userdata):
    time.sleep(1000)
hexchat.hook_command("NAP", nap)''')
STOPPED = _script("stopped", "")
FORKER = _script("forker", '''
def fork(word, word_eol, userdata):
    pid = os.fork()
    if pid == 0:
        time.sleep(1000)
        os._exit(0)
    hexchat.prnt("forked %d" % pid)
    return hexchat.EAT_ALL
hexchat.hook_command("FORK", fork)
hexchat.hook_command("PING", lambda w, we, u: hexchat.prnt("pong") or hexchat.EAT_ALL)''')
FLOODER = _script("flooder", '''
import threading
def flood():
    while True:
        hexchat.prnt("flood")
def start(word, word_eol, userdata):
    threading.Thread(target=flood, daemon=True).start()
    return hexchat.EAT_ALL
hexchat.hook_command("FLOOD", start)''')
CRASHER = _script("crasher", '''
def crash(word, word_eol, userdata):
    os.abort()
hexchat.hook_command("ABORT", crash)''')
BIG = _script("big", '''
def big(word, word_eol, userdata):
    hexchat.prnt("x" * (100 * 1024 * 1024))
    return hexchat.EAT_ALL
hexchat.hook_command("BIG", big)
hexchat.hook_command("BIGALIVE", lambda w, we, u: hexchat.prnt("big is alive") or hexchat.EAT_ALL)''')


def _lines(hc, channel="#test"):
    return [l.lstrip("\t") for l in hc.transcript(channel)]


def _tree(pid):
    """A worker and everything it started."""
    return [pid] + [p.pid for p in descendants(pid)]


def _runtime_dir(worker_pid):
    """Where the worker's stderr file is (its fd 2), i.e. the runtime dir."""
    return os.path.dirname(os.readlink(f"/proc/{worker_pid}/fd/2"))


def _runs(pid, name):
    """Whether ``pid`` is a worker of script ``name`` or a child it started:
    its stderr is that worker's file (a zygote's worker has the zygote's
    command line, so the file names it)."""
    try:
        return os.path.basename(os.readlink(f"/proc/{pid}/fd/2")).startswith(f"worker-{name}-")
    except OSError:
        return False


def _all_gone(pids, timeout):
    end = time.monotonic() + timeout
    return [p for p in pids if not wait_pid_exit(p, max(0.0, end - time.monotonic()))]


def _quit_seconds(hc):
    """Seconds from asking HexChat to quit until its process is gone (the
    harness quits through `/timer 0.1 killall` and cuts HexChat's own final
    2 s sleep once everything is closed)."""
    exited = {}
    pid = hc.pid
    watcher = threading.Thread(target=lambda: exited.setdefault("t", wait_pid_exit(pid, 15) and time.monotonic()))
    watcher.start()
    started = time.monotonic()
    result = hc.stop()
    watcher.join()
    return exited["t"] - started, result


@pytest.fixture
def private_tmp():
    """A temporary folder of the e2e user's for HexChat's TMPDIR: every
    HexChat that starts removes the runtime dirs of dead HexChats in its
    temporary folder, so in the shared /tmp another test's HexChat, started
    in the same second, removed the one this test looks for (seen once in a
    loop of full runs: "nobody could clean it up")."""
    # Not under pytest's tmp_path: its parents are root's, closed to the user.
    path = tempfile.mkdtemp(prefix="hexsandbox-e2e-tmp-")
    user = e2e_user()
    chown_tree(path, user.uid, user.gid)
    yield {"TMPDIR": path}
    remove_tree(path)


@pytest.mark.parametrize("start", ["zygote", "spawn"])
def test_hexchat_sigkilled_leaves_nothing_running(sandboxed_hexchat_factory, start, private_tmp):
    """Row: HexChat killed with SIGKILL; idle, busy-looping, sleeping-in-callback
    and SIGSTOPped workers, each with children, all gone within 2 s. Row: the
    runtime dir left behind after a SIGKILL is removed at the next start.
    Both start modes: a zygote's workers have no parent-death signal."""
    hc = sandboxed_hexchat_factory(sandbox={"idle.py": IDLE, "busy.py": BUSY, "sleeper.py": SLEEPER,
                                            "stopped.py": STOPPED},
                                   ini=f"[defaults]\ndeadline_ms = 200\n[sandbox]\nstart = {start}\n",
                                   process_env=private_tmp)
    states = {s["name"]: s for s in hc.wait_running("idle", "busy", "sleeper", "stopped")}
    runtime_dir = _runtime_dir(states["idle"]["pid"])
    hc.command("SPIN", "#test")
    hc.command("NAP", "#test")
    hc.wait_scripts(lambda st: all(s["late"] for s in st if s["name"] in ("busy", "sleeper")),
                    what="busy and sleeper to be stuck")
    os.kill(states["stopped"]["pid"], signal.SIGSTOP)
    everything = [p.pid for p in hc.children()]
    for s in states.values():
        assert len(_tree(s["pid"])) >= 3, f"{s['name']} and its two children run"
        parent = proc_info(s["pid"]).ppid
        if start == "spawn":
            assert parent == hc.pid, f"{s['name']} spawned by HexChat"
        else:
            with open(f"/proc/{parent}/cmdline", "rb") as f:
                assert b"hexsandbox.zygote.server" in f.read(), f"{s['name']} forked by the zygote"
            assert proc_info(parent).ppid == hc.pid
    assert set(everything) >= {p for s in states.values() for p in _tree(s["pid"])}

    send_signal([hc.pid], signal.SIGKILL)
    assert wait_pid_exit(hc.pid, 5)
    left = _all_gone(everything, 2.0)
    assert not left, [(p, open(f"/proc/{p}/cmdline", "rb").read()) for p in left]
    assert os.path.isdir(runtime_dir), "nobody could clean it up"

    assert os.path.dirname(runtime_dir) == private_tmp["TMPDIR"]

    again = sandboxed_hexchat_factory(sandbox={"idle.py": IDLE}, process_env=private_tmp)
    again.wait_running("idle")
    assert not os.path.exists(runtime_dir), "a dead HexChat's runtime dir is removed at the next start"


def test_children_end_with_their_worker_and_a_fork_is_not_the_worker(sandboxed_hexchat_factory,
                                                                       scripted_server):
    """Rows: a script that forks (the child must not keep HexChat's pipe or
    pass for the worker; the worker is reaped, quit does not wait for the
    child); children of a crashed or unloaded script outlive HexChat; 50
    reloads leave 50 stderr files behind; one oversized call; a prompt quit
    whatever the workers do (hung, stopped, flooding, forked)."""
    hc = sandboxed_hexchat_factory(
        sandbox={"forker.py": FORKER, "crasher.py": CRASHER, "idle.py": IDLE, "busy.py": BUSY,
                 "stopped.py": STOPPED, "flooder.py": FLOODER, "big.py": BIG},
        ini="[defaults]\ndeadline_ms = 300\n[script:big.py]\ndeadline_ms = 10000\n")
    states = {s["name"]: s for s in hc.wait_running("forker", "crasher", "idle", "busy", "stopped",
                                                    "flooder", "big")}
    runtime_dir = _runtime_dir(states["idle"]["pid"])

    # A fork in a hook: the next answers come back in time, from the worker.
    hc.command("FORK", "#test")
    hc.command("PING", "#test")
    scripted_server.roundtrip()
    lines = _lines(hc)
    forked = int([l for l in lines if l.startswith("forked ")][0].split()[1])
    assert "pong" in lines
    assert is_alive(forked)
    forker_tree = _tree(states["forker"]["pid"])
    assert forked in forker_tree

    # Unload ends the forker and everything it started; it is reaped.
    hc.command("sandbox unload forker", "#test")
    hc.wait_scripts(lambda st: not any(s["name"] == "forker" for s in st), what="forker to be unloaded")
    assert not _all_gone(forker_tree, 2.0), "the worker, its children and its fork are gone"
    assert not os.path.exists(f"/proc/{states['forker']['pid']}"), "reaped, not a zombie"

    # A crash ends the crasher's children too.
    crasher_tree = _tree(states["crasher"]["pid"])
    hc.command("ABORT", "#test")
    hc.wait_scripts(lambda st: any(s["name"] == "crasher" and s["state"] == "crashed" for s in st)
                    or any(s["name"] == "crasher" and s["pid"] != states["crasher"]["pid"] for s in st),
                    what="the crash to be reaped")
    assert not _all_gone(crasher_tree, 2.0)
    hc.command("sandbox log crasher", "#test")
    scripted_server.roundtrip()
    lines = _lines(hc)
    log = [l.strip() for l in lines[max(i for i, l in enumerate(lines)
                                        if l.startswith("hexsandbox: log of crasher")):]]
    assert any(l.startswith("hexsandbox: crasher crashed (SIGABRT)") for l in log[:3]), log
    assert "Fatal Python error: Aborted" in log, log

    # One oversized call is refused in the worker, naming the call and the
    # limit; the script lives on.
    hc.command("BIG", "#test")
    hc.command("BIGALIVE", "#test")
    scripted_server.roundtrip()
    lines = _lines(hc)
    assert "ValueError: hexsandbox: prnt() refused: 100.0 MB is more than the 256 KiB a call may carry" \
        in lines, lines[-10:]
    assert "big is alive" in lines

    # 50 reloads leave one stderr file per live worker, nothing else.
    for _ in range(50):
        hc.command("sandbox reload idle.py", "#test")
    (idle,) = [s for s in hc.wait_running("idle") if s["name"] == "idle"]
    current = _tree(idle["pid"])
    reloaded_away = [p.pid for p in hc.children() if _runs(p.pid, "idle") and p.pid not in current]
    assert not _all_gone(reloaded_away, 10.0)
    workers = [s["pid"] for s in hc.scripts_state() if not s["dead"]]
    live_files = {os.path.basename(os.readlink(f"/proc/{pid}/fd/2")) for pid in workers}
    stderr_files = {f for f in os.listdir(runtime_dir) if f.endswith(".stderr")}
    assert stderr_files == live_files, (stderr_files, live_files)

    reports = hc.reports()
    assert [r["kind"] for r in reports] == ["crash"], "\n".join(r["text"] for r in reports)
    assert re.match(r"hexsandbox: crasher crashed \(SIGABRT\) in crasher\.py line \d+, crash\(\); "
                    r"restarting in 1 s \(1 of 3\)$", reports[0]["text"]), reports

    # Quit while one worker is hung, one stopped, one flooding, one forked.
    hc.command("sandbox load forker.py", "#test")
    hc.wait_running("forker")
    hc.command("FORK", "#test")
    hc.command("SPIN", "#test")
    hc.command("FLOOD", "#test")
    os.kill(states["stopped"]["pid"], signal.SIGSTOP)
    everything = [p.pid for p in hc.children()]
    seconds, result = _quit_seconds(hc)
    assert seconds < 1.1, f"HexChat took {seconds:.2f} s to quit (1 s + the harness's /timer 0.1)"
    assert not result.leftovers, result.leftovers
    assert not _all_gone(everything, 0.5)
    assert not os.path.exists(runtime_dir), "the runtime dir is removed at exit"


HUNG = '''
__module_name__ = "%s"
import hexchat
def hang(word, word_eol, userdata):
    while True:
        pass
hexchat.hook_command("%s", hang)
'''


def test_only_a_crash_is_called_a_crash(sandboxed_hexchat_factory, scripted_server):
    """Rows: /sandbox unload of a script whose hook loops forever; reloading
    a hung script; a normal quit while a script is hung; sys.exit(3) at load."""
    hc = sandboxed_hexchat_factory(
        sandbox={"victim.py": HUNG % ("victim", "HANG1"), "victim2.py": HUNG % ("victim2", "HANG2"),
                 "hung.py": HUNG % ("hung", "HANG3"),
                 "quitter.py": '__module_name__ = "quitter"\nimport sys\nsys.exit(3)\n'},
        ini="[defaults]\ndeadline_ms = 200\n")
    states = {s["name"]: s for s in hc.wait_running("victim", "victim2", "hung")}
    for cmd in ("HANG1", "HANG2", "HANG3"):
        hc.command(cmd, "#test")
    hc.wait_scripts(lambda st: sum(s["late"] for s in st) == 3, what="three hung scripts")
    hc.command("sandbox unload victim", "#test")
    hc.command("sandbox reload victim2", "#test")
    hc.wait_scripts(lambda st: not any(s["name"] == "victim" for s in st)
                    and any(s["name"] == "victim2" and s["state"] == "running"
                            and s["pid"] != states["victim2"]["pid"] for s in st), timeout=10,
                    what="victim to be stopped and victim2 to be reloaded")
    _wait_reports(hc, lambda texts: sum("did not finish unloading" in t for t in texts) == 2)
    texts = [r["text"] for r in hc.reports()]
    late = [t for t in texts if "did not answer" in t]
    assert len(late) == 3
    assert sorted(t for t in texts if t not in late) == [
        "hexsandbox: quitter.py could not load: it exited with code 3 while loading; it is not restarted.",
        "hexsandbox: victim did not finish unloading within 3 s and was stopped.",
        "hexsandbox: victim2 did not finish unloading within 3 s and was stopped."], texts

    # Quit while "hung" is stuck: nothing is called a crash, nothing restarts.
    hc.keep_dir = True  # read HexChat's own logs of the quit afterwards
    seconds, result = _quit_seconds(hc)
    try:
        logged = _logged_lines(hc.config_dir)
    finally:
        remove_tree(hc.base_dir)
    assert seconds < 1.1
    assert not result.leftovers, result.leftovers
    told = [l for l in logged if "hexsandbox:" in l]
    assert told and not [l for l in told if "crashed" in l or "restarting" in l], told


def _wait_reports(hc, predicate, timeout=10.0):
    """Until predicate(report texts) holds; each check is a round trip to
    HexChat's main thread (where reports are made), not a sleep."""
    end = time.monotonic() + timeout
    while True:
        texts = [r["text"] for r in hc.reports()]
        if predicate(texts):
            return texts
        assert time.monotonic() < end, texts


def _logged_lines(config_dir):
    """Every line HexChat logged (irc_logging: one file per tab)."""
    lines = []
    for folder, _dirs, files in os.walk(os.path.join(config_dir, "logs")):
        for name in files:
            with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                lines += f.read().splitlines()
    return lines


def test_a_memory_limit_too_small_for_python_is_said_once(sandboxed_hexchat_factory, scripted_server):
    """Row: memory_limit_mb = 5 gave "can't start new thread" in a restart
    loop. The setting's bounds (config.py) now refuse it in one line and the
    script runs with the default; a limit that passes them but cannot hold
    the worker's Python is the worker's own one line (tests/core)."""
    hc = sandboxed_hexchat_factory(sandbox={"idle.py": _script("idle", "")},
                                   ini="[defaults]\nmemory_limit_mb = 5\n")
    hc.wait_running("idle")
    scripted_server.roundtrip()
    shown = [l.lstrip("\t") for lines in hc.transcript().values() for l in lines]  # every tab
    told = [l for l in shown if "memory_limit_mb" in l or "memory limit" in l]
    assert len(told) == 1 and "memory_limit_mb = '5'" in told[0], told
    assert hc.reports() == []


SLOW = '''
__module_name__ = "slow"
import hexchat, time
seen = [0]
def on_msg(word, word_eol, userdata):
    seen[0] += 1
    time.sleep(2)
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", on_msg)
'''

PROBE = '''
__module_name__ = "probe"
import hexchat, time
state = {"last": None, "gaps": [], "ticks": 0}
def tick(userdata):
    now = time.monotonic()
    if state["last"] is not None:
        state["gaps"].append(now - state["last"])
    state["last"] = now
    state["ticks"] += 1
    return True
hexchat.hook_timer(10, tick)
'''


def test_a_slow_script_stalls_hexchat_at_most_once(sandboxed_hexchat_factory, scripted_server):
    """Row: a hook that takes 2 s on every message, 200 messages over 10 s:
    5 stalls of 0.51 s each, with 5 "late" and 5 "answering again" lines."""
    hc = sandboxed_hexchat_factory(sandbox={"slow.py": SLOW}, scripts={"probe.py": PROBE})
    hc.wait_running("slow")
    hc.eval("script('probe')['state'].update(gaps=[], last=None)")
    start = time.monotonic()
    for i in range(200):
        scripted_server.send(f":alice!a@example.org PRIVMSG #test :message {i}")
        time.sleep(max(0.0, start + (i + 1) * 0.05 - time.monotonic()))  # the row's pace: 20 a second
    scripted_server.roundtrip()
    # A stall is HexChat waiting out the 500 ms deadline: a gap of the 10 ms
    # probe timer near 0.5 s (before: 5 of 0.51 s). The sandbox counts the
    # waits that ran out too (/sandbox list, "Late").
    gaps = hc.eval("script('probe')['state']['gaps']")
    stalls = [g for g in gaps if g >= 0.45]
    assert len(stalls) <= 1 and all(g < 0.6 for g in stalls), (stalls, sorted(gaps)[-5:])
    hc.command("sandbox list", "#test")
    scripted_server.roundtrip()
    header, row = [l.split() for l in _lines(hc) if l.startswith(("Name ", "slow "))][-2:]
    assert dict(zip(header, row))["Late"] == "1"
    reports = hc.reports()
    assert [r["kind"] for r in reports] == ["late"], reports
    lines = _lines(hc)
    assert sum(1 for l in lines if l.startswith("hexsandbox:")) == 1
    assert sum(1 for l in lines if re.search(r"message \d+$", l)) == 200, "every message shown, uneaten"
    delivered = hc.eval("import hexsandbox.loader as _h\n"
                        "result = _h.current_host().sandbox.find('slow').slow.delivered_one_way")
    assert delivered == 199, "still delivered to it, one-way"


def test_a_killed_zygote_takes_no_script_down(sandboxed_hexchat_factory, scripted_server):
    """Issue 14: a zygote's crash must not end its workers (they are not its
    to end), the next start is spawned, and the orphaned workers and their
    children still end with HexChat (pipe end of file, group watchdog)."""
    hc = sandboxed_hexchat_factory(sandbox={"idle.py": IDLE, "forker.py": FORKER})
    states = {s["name"]: s for s in hc.wait_running("idle", "forker")}
    zygote = proc_info(states["forker"]["pid"]).ppid
    with open(f"/proc/{zygote}/cmdline", "rb") as f:
        assert b"hexsandbox.zygote.server" in f.read()
    old_idle = _tree(states["idle"]["pid"])
    orphans = _tree(states["forker"]["pid"]) + old_idle
    assert len(orphans) >= 6, "both workers and their two children each"

    os.kill(zygote, signal.SIGKILL)
    assert wait_pid_exit(zygote, 5)
    hc.command("PING", "#test")
    scripted_server.roundtrip()
    assert "pong" in _lines(hc), "the forker still answers"
    assert _all_gone(orphans, 0) == orphans, "nothing of theirs died with the zygote"

    hc.command("sandbox reload idle.py", "#test")
    (idle,) = [s for s in hc.wait_scripts(
        lambda st: any(s["name"] == "idle" and s["state"] == "running" and s["pid"] != states["idle"]["pid"]
                       for s in st), what="the reloaded idle to run") if s["name"] == "idle"]
    assert proc_info(idle["pid"]).ppid == hc.pid, "spawned: the zygote is not restarted"
    assert not _all_gone(old_idle, 2.0), "the reloaded-away orphan and its children end"
    reports = hc.reports()
    assert [r["kind"] for r in reports] == [], "\n".join(r["text"] for r in reports)

    # HexChat dies with the orphaned forker still running: it and its
    # children end too (nobody's parent-death signal reaches them).
    everything = _tree(states["forker"]["pid"]) + _tree(idle["pid"])
    assert len(everything) >= 6
    send_signal([hc.pid], signal.SIGKILL)
    assert wait_pid_exit(hc.pid, 5)
    left = _all_gone(everything, 2.0)
    assert not left, [(p, open(f"/proc/{p}/cmdline", "rb").read()) for p in left]
