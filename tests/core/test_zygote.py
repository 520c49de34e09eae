"""Workers forked by a zygote keep every isolation property of spawned ones
(issue 14, item 1): own session and group, reaping with the right status,
the memory limit, death with HexChat, no descriptor of anyone else's; and a
zygote that dies costs nothing but the fallback to spawn."""

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from hexsandbox import spawning
from hexsandbox.client import State
from hexsandbox.testing import EmulatedClient

PINGER = '''
__module_name__ = "pinger%d"
import hexchat
hexchat.hook_command("PING%d", lambda w, we, u: hexchat.prnt("pong %d") or hexchat.EAT_ALL)
'''

FORKER = '''
__module_name__ = "forker"
import hexchat, os, signal
def fork(word, word_eol, userdata):
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:  # past the at-fork handlers by now: say so, then wait to be killed
        os.write(ready_w, b"x")
        signal.pause()
    os.read(ready_r, 1)
    hexchat.prnt("forked %d" % child)
    return hexchat.EAT_ALL
hexchat.hook_command("FORK", fork)
'''


@pytest.fixture(autouse=True)
def zygote_mode(monkeypatch):
    monkeypatch.setenv(spawning.START_ENV, "zygote")


def _stat(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return {"ppid": int(fields[1]), "pgrp": int(fields[2]), "session": int(fields[3])}


def _fds(pid):
    """fd number -> what it points at."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            pass
    return out


def _sockets(pid):
    return {target for target in _fds(pid).values() if target.startswith("socket:")}


def _gone(pids, timeout):
    """The pids still running after ``timeout`` (waited on pidfds, no polling)."""
    end = time.monotonic() + timeout
    left = []
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            if not select.select([fd], [], [], max(0.0, end - time.monotonic()))[0]:
                left.append(pid)
        finally:
            os.close(fd)
    return left


def test_a_worker_is_the_zygotes_child_in_a_session_of_its_own(hexchat_client):
    script = hexchat_client.load(PINGER % (1, 1, 1))
    zygote = spawning.zygote_pid()
    assert zygote is not None
    worker = _stat(script.pid)
    assert worker["ppid"] == zygote, "forked by the zygote, not spawned"
    assert worker["pgrp"] == worker["session"] == script.pid, "leads its own session and group"
    assert _stat(zygote)["ppid"] == os.getpid(), "the zygote is the client's child"
    assert _stat(zygote)["session"] == zygote, "the zygote too is in a session of its own"
    with open(f"/proc/{zygote}/status") as f:
        assert "Threads:\t1\n" in f.read(), "the zygote forks from its only thread"
    hexchat_client.type("/PING1", "#test")
    assert "pong 1" in hexchat_client.lines("#test")


def test_the_memory_limit_applies_to_a_forked_worker(hexchat_client):
    hexchat_client.sandbox.memory_limit_mb = 300
    script = hexchat_client.load(PINGER % (1, 1, 1))
    assert _stat(script.pid)["ppid"] == spawning.zygote_pid()
    with open(f"/proc/{script.pid}/limits") as f:
        line = [l for l in f if l.startswith("Max address space")][0]
    assert line.split()[3:5] == [str(300 * 1024 * 1024)] * 2, line


def test_a_worker_holds_only_its_own_pipe(hexchat_client):
    """No other worker's pipe, not the zygote's control socket, no pidfd,
    no stray stderr copy: 0 is /dev/null, 1 and 2 its own stderr file."""
    first = hexchat_client.load(PINGER % (1, 1, 1))
    second = hexchat_client.load(PINGER % (2, 2, 2))
    zygote = spawning.zygote_pid()
    control = _sockets(zygote)
    assert len(control) == 1, ("the zygote holds its control socket and nothing of a worker's",
                               _fds(zygote))
    mine = {}
    for script in (first, second):
        fds = _fds(script.pid)
        assert fds[0] == "/dev/null"
        assert fds[1] == fds[2] == script.worker.stderr_path
        assert not [t for t in fds.values() if "pidfd" in t], fds
        mine[script.pid] = _sockets(script.pid)
        assert len(mine[script.pid]) == 1, fds
        assert not mine[script.pid] & control
    assert not mine[first.pid] & mine[second.pid]


def test_a_scripts_fork_gets_nothing_of_hexchats(hexchat_client):
    script = hexchat_client.load(FORKER)
    hexchat_client.type("/FORK", "#test")
    child = int([l for l in hexchat_client.lines("#test") if l.startswith("forked ")][0].split()[1])
    fds = _fds(child)
    assert not [t for t in fds.values() if t.startswith("socket:")], fds
    assert "/dev/null" in fds.values(), "the worker's pipe is /dev/null in the child"
    assert _stat(child)["pgrp"] == script.pid, "in the worker's group, so it ends with it"
    hexchat_client.unload(script)
    assert not _gone([child], 5.0)


@pytest.mark.parametrize("how, code", [("os._exit(5)", 5), ("os.abort()", -signal.SIGABRT)])
def test_the_zygote_reports_the_exit_status(hexchat_client, how, code):
    script = hexchat_client.load(f'''
__module_name__ = "dies"
import hexchat, os
hexchat.hook_command("DIE", lambda w, we, u: {how})
''')
    assert _stat(script.pid)["ppid"] == spawning.zygote_pid()
    hexchat_client.type("/DIE", "#test")
    hexchat_client.wait_for(lambda: script.dead, what="the death to be reaped")
    assert script.exitcode == code
    assert not os.path.exists(f"/proc/{script.pid}"), "reaped by the zygote, not a zombie"


def test_a_worker_survives_its_zygote_and_the_next_load_is_spawned(hexchat_client):
    old = hexchat_client.load(PINGER % (1, 1, 1))
    zygote = spawning.zygote_pid()
    assert _stat(old.pid)["ppid"] == zygote
    os.kill(zygote, signal.SIGKILL)
    assert not _gone([zygote], 5.0)
    hexchat_client.type("/PING1", "#test")
    assert "pong 1" in hexchat_client.lines("#test"), "the zygote's death took no script down"

    new = hexchat_client.load(PINGER % (2, 2, 2))
    assert new.state is State.RUNNING
    assert _stat(new.pid)["ppid"] == os.getpid(), "spawned: the zygote is not restarted"
    assert spawning.zygote_pid() is None

    # Its status can never come now: the death is still noticed at once
    # (pidfd) and reported, with no exit status, and nothing waits long.
    started = time.monotonic()
    os.kill(old.pid, signal.SIGKILL)
    hexchat_client.wait_for(lambda: old.dead, what="the orphan's death to be noticed")
    assert time.monotonic() - started < 2.0
    assert old.exitcode is None
    assert [r.text for r in hexchat_client.sandbox.reports if r.script == "pinger1"] == [
        "hexsandbox: pinger1 crashed (unknown exit status); /sandbox restart pinger1 starts it again."]
    hexchat_client.type("/PING2", "#test")
    assert "pong 2" in hexchat_client.lines("#test")


def test_spawn_mode_spawns(tmp_path, monkeypatch):
    """``Sandbox(start="spawn")`` wins over the environment; no zygote starts."""
    with EmulatedClient(str(tmp_path)) as client:
        client.sandbox.start = "spawn"
        script = client.load(PINGER % (1, 1, 1))
        assert _stat(script.pid)["ppid"] == os.getpid()
        assert spawning.zygote_pid() is None


# A client in its own process: it loads scripts, says their pids, then waits
# to be killed.
CLIENT = r'''
import json, os, sys
from hexsandbox import spawning
from hexsandbox.testing import EmulatedClient
client = EmulatedClient(sys.argv[1])
sleeper = """
__module_name__ = "sleeper"
import hexchat, subprocess
kid = subprocess.Popen(["sleep", "1000"])
hexchat.hook_command("KID", lambda w, we, u: hexchat.prnt("kid %d" % kid.pid) or hexchat.EAT_ALL)
"""
busy = """
__module_name__ = "busy"
import hexchat, threading
threading.Thread(target=lambda: [None for _ in iter(int, 1)], daemon=True).start()
"""
scripts = [client.load(sleeper), client.load(busy)]
client.type("/KID", "#test")
kid = int([l for l in client.lines("#test") if l.startswith("kid ")][0].split()[1])
zygote = spawning.zygote_pid()
print(json.dumps({"workers": [s.pid for s in scripts], "kid": kid, "zygote": zygote,
                  "parents": [int(open("/proc/%d/stat" % s.pid).read().rsplit(")", 1)[1].split()[1])
                              for s in scripts]}), flush=True)
sys.stdin.read()
'''


@pytest.mark.parametrize("mode", spawning.START_MODES)
def test_workers_die_with_a_sigkilled_client(tmp_path, mode):
    """No parent-death signal reaches a zygote's workers (the zygote is their
    parent): the pipe's end of file and the group watchdog end them. Spawned
    workers (the parent-death signal too) as well."""
    env = dict(os.environ, **{spawning.START_ENV: mode})
    proc = subprocess.Popen([sys.executable, "-c", CLIENT, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env)
    try:
        told = json.loads(proc.stdout.readline())
        if mode == "zygote":
            assert told["parents"] == [told["zygote"]] * 2, told
        else:
            assert told["parents"] == [proc.pid] * 2 and told["zygote"] is None, told
        everything = told["workers"] + [told["kid"]] + ([told["zygote"]] if told["zygote"] else [])
        assert _gone(everything, 0) == everything, "all running before the kill"
        proc.kill()
        proc.wait()
        assert not _gone(everything, 2.0), "the workers, the script's child and the zygote are gone"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("mode", spawning.START_MODES)
def test_an_interpreter_without_hexsandbox_fails_the_same_way(tmp_path, monkeypatch, mode):
    """Its zygote dies at once (no wait for a boot that never comes); the
    worker is spawned instead and fails as it always did."""
    monkeypatch.setenv(spawning.START_ENV, mode)
    bare = tmp_path / "bare-python"
    bare.write_text("#!/bin/sh\nexec %s -I -S \"$@\"\n" % sys.executable)
    bare.chmod(0o755)
    with EmulatedClient(str(tmp_path)) as client:
        path = tmp_path / "one.py"
        path.write_text(PINGER % (1, 1, 1))
        script = client.sandbox.load(str(path), python=str(bare))
        client.wait_for(lambda: script.dead, what="the worker to fail")
        assert script.state is State.FAILED
        (report,) = client.sandbox.reports
        assert report.text == ("hexsandbox: one.py could not load: it exited with code 1 while loading "
                               "(last output: ModuleNotFoundError: No module named 'hexsandbox'); "
                               "it is not restarted.")
        if mode == "zygote":
            assert spawning.zygote_failure(str(bare)) == "exited", "not a timeout"


def test_a_zygote_with_a_thread_refuses_to_serve(tmp_path, monkeypatch):
    """A fork copies only the forking thread, so a zygote with a second one
    (here started by a sitecustomize at interpreter start) says why and is
    dropped; the worker is spawned and runs."""
    monkeypatch.setenv(spawning.START_ENV, "zygote")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n")
    threaded = tmp_path / "threaded-python"
    threaded.write_text(f"#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} \"$@\"\n")
    threaded.chmod(0o755)
    with EmulatedClient(str(tmp_path)) as client:
        path = tmp_path / "one.py"
        path.write_text(PINGER % (1, 1, 1))
        script = client.sandbox.load(str(path), python=str(threaded))
        client.wait_for(lambda: script.state is State.RUNNING, what="the spawned worker to load")
        assert _stat(script.pid)["ppid"] == os.getpid(), "spawned"
        why = spawning.zygote_failure(str(threaded))
        assert why.startswith("failed to start: ") and "2 threads after preloading" in why, why
        client.type("/PING1", "#test")
        assert "pong 1" in client.lines("#test")
