"""The lifecycle rules on their own (fast): restart policy, one-line endings,
the slow-script rule, stale runtime dirs, workers started from short-lived
threads, a fork in a hook. The e2e rows are in tests/e2e/test_lifecycle.py."""

import os
import queue
import subprocess
import sys
import threading
import time

from hexsandbox import endings, runtime_dirs, slow_policy, spawning
from hexsandbox.client import State
from hexsandbox.restart_policy import RestartPolicy, next_restart


def test_restart_policy_three_in_five_minutes_then_stop():
    policy = RestartPolicy()
    times, plans = [], []
    for now in (0.0, 10.0, 20.0, 30.0):
        times, plan = next_restart(policy, times, now)
        plans.append(plan)
    assert plans == [(1000, 1), (2000, 2), (4000, 3), None]
    times, plan = next_restart(policy, times, 30.0 + 301)
    assert plan == (1000, 1), "crashes older than the window are forgotten"


def _describe(**kw):
    args = dict(life=endings.Life(), loaded=True, exitcode=-6, tail=[], memory_limit_mb=1024)
    args.update(kw)
    return endings.describe("weather", "/s/weather.py", **args)


def test_endings_are_one_true_line():
    dump = ["Fatal Python error: Aborted", "", "Thread 0x2 (most recent call first):",
            '  File "/s/weather.py", line 20 in other_thread', "",
            "Current thread 0x1 (most recent call first):",
            '  File "/s/weather.py", line 7 in boom', '  File "/s/weather.py", line 9 in <module>']
    crash = _describe(tail=dump)
    assert (crash.kind, crash.text, crash.restartable) == (
        "crash", "hexsandbox: weather crashed (SIGABRT) in weather.py line 7, boom()", True)
    tb = ["Traceback (most recent call last):", '  File "/s/weather.py", line 3, in <module>',
          '  File "/s/weather.py", line 5, in inner', "MemoryError"]
    oom = _describe(exitcode=70, tail=tb)
    assert oom.text == ("hexsandbox: weather ran out of memory (limit 1024 MB) and was stopped "
                        "in weather.py line 5, inner()")
    for intent in (endings.UNLOAD, endings.RELOAD, endings.QUIT):
        assert _describe(life=endings.Life(intent=intent), exitcode=-9).kind == "", intent
    hung = _describe(life=endings.Life(intent=endings.UNLOAD, stopped_after_grace=True), exitcode=-9)
    assert hung.text == "hexsandbox: weather did not finish unloading within 3 s and was stopped."
    assert not _describe(loaded=False, exitcode=3).restartable
    small = _describe(loaded=False, exitcode=78, memory_limit_mb=5)
    assert small.text == "hexsandbox: weather could not start: memory limit 5 MB is too small for Python."


def test_a_late_script_is_not_waited_on_until_it_keeps_up():
    rec = slow_policy.SlowRecord()
    assert rec.should_wait(0.0, 0.5)
    rec.stalled(1.0)
    assert not rec.should_wait(2.0, 0.5) and not rec.should_wait(60.9, 0.5)
    rec.sent_one_way(7, 61.0)
    assert not rec.should_wait(61.6, 0.5), "an event outstanding past the deadline"
    assert rec.answered(7, 62.0, 0.5), "a late one-way answer restarts the minute"
    assert not rec.should_wait(121.9, 0.5) and rec.should_wait(122.1, 0.5)


def test_stale_runtime_dirs_are_removed_live_ones_kept(tmp_path):
    mine = runtime_dirs.create(str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / (runtime_dirs.PREFIX + "stale")
    stale.mkdir()
    (stale / runtime_dirs.OWNER_FILE).write_text(f"{dead.pid} 12345\n")
    reused = tmp_path / (runtime_dirs.PREFIX + "reused")  # our pid, another start time
    reused.mkdir()
    (reused / runtime_dirs.OWNER_FILE).write_text(f"{os.getpid()} 1\n")
    other = tmp_path / "hexsandbox-e2e-keep"
    other.mkdir()
    assert runtime_dirs.clean_stale(str(tmp_path)) == 2
    assert os.path.isdir(mine) and other.is_dir() and not stale.exists() and not reused.exists()


def test_a_worker_started_from_a_thread_that_ends_lives_on(hexchat_client):
    """The parent-death signal follows the spawning *thread*: workers are
    started from a long-lived thread when the caller is not the main one."""
    box = {}

    def start_and_wait_loaded():
        # The thread ends only after the worker has set its parent-death
        # signal (it does so before loading the script).
        box["s"] = hexchat_client.sandbox.load(os.path.join(hexchat_client.config_dir, "t.py"))
        box["ready"].wait(10)

    box["ready"] = threading.Event()
    starter = threading.Thread(target=start_and_wait_loaded)
    with open(os.path.join(hexchat_client.config_dir, "t.py"), "w") as f:
        f.write('__module_name__ = "t"\nimport hexchat\n'
                'hexchat.hook_command("T", lambda w, we, u: hexchat.prnt("t alive") or 3)\n')
    starter.start()
    hexchat_client.wait_for(lambda: "s" in box and box["s"].state is State.RUNNING)
    box["ready"].set()
    starter.join()
    script = box["s"]
    hexchat_client.type("/T", "#test")
    assert ("t alive" in hexchat_client.lines("#test"), script.state) == (True, State.RUNNING)


def test_a_background_start_is_one_job_on_the_spawner_thread(tmp_path):
    """spawning.submit (autoload): the start runs on the spawner thread, the
    spawn it asks for runs there at once (handing it on again would wait on
    itself), done is told there, and a failed start reaches done as its
    exception."""
    script = tmp_path / "idle.py"
    script.write_text("")
    told: "queue.SimpleQueue[tuple]" = queue.SimpleQueue()

    def start():
        return threading.current_thread().name, spawning.start_worker(
            str(script), context=None, python=None, runtime_dir=str(tmp_path), start="spawn")

    def fail():
        raise OSError("no such python")

    def done(result, error):
        told.put((threading.current_thread().name, result, error))

    spawning.submit(start, done)
    spawning.submit(fail, done)
    told_on, (ran_on, worker), error = told.get(timeout=10)
    try:
        assert (told_on, ran_on, error) == ("hexsandbox-spawner", "hexsandbox-spawner", None)
        assert worker.process.is_alive()
    finally:
        spawning.kill(worker)
        spawning.ended(worker)
        worker.conn.close()
    told_on, result, error = told.get(timeout=10)
    assert (told_on, result, repr(error)) == ("hexsandbox-spawner", None, "OSError('no such python')")


def test_a_fork_in_a_hook_does_not_pass_for_the_worker(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "forker"
        import hexchat, os, time
        def fork(word, word_eol, userdata):
            if os.fork() == 0:
                try:
                    hexchat.prnt("the child speaks")  # it must not reach HexChat
                finally:
                    time.sleep(1000)
            return hexchat.EAT_ALL
        hexchat.hook_command("FORK", fork)
        hexchat.hook_command("PING", lambda w, we, u: hexchat.prnt("pong") or hexchat.EAT_ALL)
    ''', deadline_ms=2000)
    hexchat_client.type("/FORK", "#test")
    hexchat_client.type("/PING", "#test")
    hexchat_client.settle(script)
    lines = hexchat_client.lines("#test")
    assert "pong" in lines and "the child speaks" not in lines
    assert not script.late and not hexchat_client.sandbox.reports
    pid = script.pid
    hexchat_client.unload(script)
    assert not os.path.exists(f"/proc/{pid}"), "reaped"
    assert not hexchat_client.sandbox.reports, "an unload is not a crash"


def test_events_for_a_stopped_worker_never_block_hexchat(hexchat_client):
    """A script no longer waited on still gets its events, but only while it
    reads them: a SIGSTOPped worker's pipe fills, and then events are dropped
    (counted) instead of blocking HexChat's main thread in a write."""
    import signal

    script = hexchat_client.load('''
        __module_name__ = "frozen"
        import hexchat
        hexchat.hook_print("Channel Message", lambda w, we, u: hexchat.EAT_NONE)
    ''', deadline_ms=100)
    os.kill(script.pid, signal.SIGSTOP)
    # If a write blocked, only the worker's death would end it: that comes
    # after 30 s, and the test then fails on the time it took.
    rescue = threading.Timer(30, os.kill, (script.pid, signal.SIGKILL))
    rescue.start()
    started = time.monotonic()
    for i in range(1000):
        hexchat_client.feed(":alice!a@h PRIVMSG #test :" + "word " * 80 + str(i))
    took = time.monotonic() - started
    rescue.cancel()
    assert took < 20, "HexChat's main thread blocked writing to a stopped worker"
    assert script.late and script.slow.delivered_one_way > 0 and script.missed_events > 0
    os.kill(script.pid, signal.SIGKILL)


def test_a_python_that_does_not_exist_is_one_line(hexchat_client):
    import pytest

    from hexsandbox.client import SandboxError

    with pytest.raises(SandboxError, match=r"^script_1\.py could not start: No such file or directory "
                                           r"\(/nonexistent/python\)$"):
        hexchat_client.sandbox.load(_write(hexchat_client, "script_1.py", '__module_name__ = "x"\n'),
                                    python="/nonexistent/python")
    assert not hexchat_client.sandbox.scripts


def test_restart_waits_on_a_slow_script_again(hexchat_client):
    from hexsandbox.commands import SandboxCommands

    script = hexchat_client.load('''
        __module_name__ = "slowpoke"
        import hexchat, time
        hexchat.hook_print("Channel Message", lambda word, word_eol, userdata:
                           time.sleep(1000) if word[1] == "slow" else hexchat.EAT_ALL)
    ''', deadline_ms=200)
    hexchat_client.feed(":alice!a@h PRIVMSG #test :slow")
    assert script.late
    hexchat_client.feed(":alice!a@h PRIVMSG #test :passes")
    assert "<alice>\tpasses" in hexchat_client.lines("#test"), "not waited on"
    SandboxCommands(hexchat_client.sandbox, hexchat_client.config_dir).run(["restart", "slowpoke"])
    fresh = hexchat_client.sandbox.find("slowpoke") or hexchat_client.sandbox.scripts[-1]
    hexchat_client.wait_for(lambda: fresh.state is State.RUNNING)
    hexchat_client.feed(":alice!a@h PRIVMSG #test :eaten")
    assert "<alice>\teaten" not in hexchat_client.lines("#test"), "waited on again"
    hexchat_client.advance(3000)  # the hung copy's unload grace
    hexchat_client.wait_for(lambda: script.dead)
    assert [r.kind for r in hexchat_client.sandbox.reports] == ["late", "stopped"]


def _write(client, name, source):
    path = os.path.join(client.config_dir, name)
    with open(path, "w") as f:
        f.write(source)
    return path


def test_a_memory_limit_too_small_for_python_is_one_line_not_a_restart_loop(tmp_path):
    from hexsandbox.restart_policy import RestartPolicy
    from hexsandbox.testing import EmulatedClient

    with EmulatedClient(str(tmp_path), restart=RestartPolicy(first_delay_ms=10)) as client:
        client.sandbox.memory_limit_mb = 40
        script = client.load('__module_name__ = "tiny"\nimport hexchat\n')
        client.advance(100)
        assert [r.text for r in client.sandbox.reports] == [
            "hexsandbox: script_1.py could not start: memory limit 40 MB is too small for Python."]
        assert script.state is State.FAILED and client.sandbox.scripts == [script]
