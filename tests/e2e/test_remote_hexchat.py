"""External applications over the local API, against real HexChat 2.16.

HexChat runs as the e2e user; allowed clients run as that user too
(remote_support.Apps), the test process is "another uid".
"""

import json
import os
import socket
import stat
import struct
import subprocess

import msgpack
import pytest

import gap_probe
from harness import plugins_window
from hexsandbox.sandbox.core import MAX_FRAME_FROM_WORKER
from remote_support import REMOTE_INI, Apps, external_scripts, reports, wait_externals, wait_report


@pytest.fixture
def remote(sandboxed_hexchat_factory):
    hc = sandboxed_hexchat_factory(ini=REMOTE_INI)
    apps = Apps(hc)
    wait_report_or_socket(apps)
    return apps


def wait_report_or_socket(apps):
    """The endpoint exists once the loader ran: a control round trip after
    start has the loader's work behind it."""
    apps.hc.eval("result = 1")
    assert os.path.exists(apps.socket_path), reports(apps.hc)


def _lines(hc, channel="#test"):
    return [l.split("\t", 1)[-1] for l in hc.transcript(channel)]


def test_cli_needs_the_users_allow_then_sends_reads_and_follows_events(remote, scripted_server):
    hc = remote.hc
    since = scripted_server.mark()
    waiting = remote.start(remote.cli_argv("send", "/say hello from the shell"))
    asked = wait_report(hc, "application hexsandbox-cli (pid")
    assert "-m hexsandbox.cli send /say hello from the shell" in asked, asked
    assert asked.endswith("Type /sandbox allow hexsandbox-cli or /sandbox deny hexsandbox-cli.")
    # Until the user answers, it gets nothing: no command reached the server.
    scripted_server.roundtrip()
    assert not any("hello from the shell" in l for l in scripted_server.lines_since(since))
    hc.command("sandbox allow hexsandbox-cli")
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err
    scripted_server.wait_for("PRIVMSG #test :hello from the shell", since=since)

    # Next time it presents its token: no question.
    assert remote.cli("info", "channel").stdout == "#test\n"
    asked_again = [t for t in reports(hc) if "asks to use HexChat" in t]
    assert len(asked_again) == 1

    events = remote.start(remote.cli_argv("events", "Channel Message", "--json", "--ready"))
    try:
        assert json.loads(events.stdout.readline()) == {"ready": True}
        # "ready" means the hook is in place in HexChat, not on its way.
        assert [app["hooks"] for app in external_scripts(hc)] == [1]
        scripted_server.privmsg("#test", "one line for the shell")
        record = json.loads(events.stdout.readline())
        assert record == {"event": "Channel Message", "kind": "print",
                          "words": ["alice", "one line for the shell"],
                          "channel": "#test", "network": record["network"]}
    finally:
        events.terminate()
        events.wait(10)
    # It left: its hook went with it.
    wait_externals(hc, lambda apps: apps == [])


def test_socket_token_and_allowlist_files_are_private(remote):
    hc = remote.hc
    waiting = remote.start(remote.cli_argv("info", "nick"))
    remote.allow("hexsandbox-cli")
    assert waiting.communicate(timeout=20)[0].strip() == hc.get_info("nick")
    sock_dir = os.path.dirname(remote.socket_path)
    assert stat.S_IMODE(os.stat(sock_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(remote.socket_path).st_mode) == 0o600
    for path in (remote.tokens_path, remote.allowlist_path):
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o600, path
        assert st.st_uid == os.stat(hc.config_dir).st_uid
    token = remote.tokens()["hexsandbox-cli"]
    kept = open(remote.allowlist_path).read()
    assert token not in kept, "only a hash of the token is kept"
    assert json.loads(kept)["hexsandbox-cli"]["state"] == "allowed"


def _hello(path, name, token=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    body = msgpack.packb([0, 1, "hello", [None, name, token]])
    try:
        s.sendall(struct.pack(">I", len(body)) + body)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before the hello was even sent
    return s


def _answer_then_end(s):
    """Everything the endpoint sent before it closed the connection (a
    reset, when our hello was still unread, ends it as well)."""
    got = b""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
    except ConnectionResetError:
        pass
    s.close()
    return got


def test_another_uid_is_refused(remote):
    """The test process is not HexChat's user (root, or the sudo user)."""
    s = _hello(remote.socket_path, "intruder")
    assert _answer_then_end(s) == b"", "closed without a word"
    told = wait_report(remote.hc, "refused a connection from uid")
    assert f"uid {os.getuid()} " in told
    assert not any("intruder" in t for t in reports(remote.hc))


TRY_TOKEN = '''
import sys
import hexsandbox.remote as r
name, token = sys.argv[1], (None if sys.argv[2] == "-" else sys.argv[2])
try:
    with r.connect(name, token=token, remember=False, timeout=15) as hc:
        print("ok", hc.get_info("channel"))
except r.RemoteError as exc:
    print("refused:", exc)
'''


def test_wrong_or_stale_token_is_refused(remote):
    hc = remote.hc
    first = remote.start(remote.cli_argv("info", "--name", "tok", "channel"))
    remote.allow("tok")
    assert first.communicate(timeout=20)[0] == "#test\n"
    old = remote.tokens()["tok"]
    assert remote.run(remote.python_argv(TRY_TOKEN, "tok", old)).stdout == "ok #test\n"
    wrong = remote.run(remote.python_argv(TRY_TOKEN, "tok", "x" * 43)).stdout
    assert wrong == "refused: hexsandbox: refused: its token is wrong or stale\n"
    # Revoked: refused, token or not.
    hc.command("sandbox deny tok")
    denied = remote.run(remote.python_argv(TRY_TOKEN, "tok", old)).stdout
    assert denied == "refused: hexsandbox: refused: the user denied it\n"
    # The user changes their mind: asked again, a new token; the old one is stale.
    hc.command("sandbox allow tok")
    assert _lines(hc)[-1] == "hexsandbox: tok is no longer denied; it will be asked about when it connects."
    told = len(reports(hc))
    again = remote.start(remote.cli_argv("info", "--name", "tok", "channel"))
    remote.allow("tok", since=told)
    assert again.communicate(timeout=20)[0] == "#test\n"
    new = remote.tokens()["tok"]
    assert new != old
    stale = remote.run(remote.python_argv(TRY_TOKEN, "tok", old)).stdout
    assert stale == "refused: hexsandbox: refused: its token is wrong or stale\n"
    assert remote.run(remote.python_argv(TRY_TOKEN, "tok", new)).stdout == "ok #test\n"


def _events(remote, name):
    """A connected ``hexsandbox events`` app called ``name``; allowed first."""
    told = len(reports(remote.hc))
    proc = remote.start(remote.cli_argv("events", "--name", name, "Channel Message", "--json", "--ready"))
    remote.allow(name, since=told)
    assert proc.stdout.readline().strip() == '{"ready": true}'
    wait_externals(remote.hc, lambda apps: any(a["path"] == f"app:{name}" and a["hooks"] == 1
                                               for a in apps))
    return proc


def test_revoking_an_app_disconnects_it(remote, scripted_server):
    hc = remote.hc
    watcher = _events(remote, "watcher")
    hc.command("sandbox deny watcher")
    assert _lines(hc)[-1] == "hexsandbox: denied application watcher; disconnected it."
    watcher.wait(10)  # its run() ends: HexChat closed the connection
    assert wait_externals(hc, lambda apps: apps == []) == []
    hc.command("sandbox apps")
    scripted_server.roundtrip()
    assert "watcher      denied  -    -" in _lines(hc)
    # Its token no longer opens anything.
    token = remote.tokens()["watcher"]
    assert remote.run(remote.python_argv(TRY_TOKEN, "watcher", token)).stdout.startswith("refused")


RAW_CLIENT = '''
import socket, struct, sys
import msgpack
from hexsandbox.remote import paths
mode = sys.argv[1]
path = paths.default_socket()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
s.connect(path)
def send(msg):
    body = msgpack.packb(msg)
    s.sendall(struct.pack(">I", len(body)) + body)
def read():
    head = s.recv(4, socket.MSG_WAITALL)
    return msgpack.unpackb(s.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))
if mode != "garbage-first":
    send([0, 1, "hello", [None, "rawapp", paths.load_token(path, "rawapp")]])
    print("hello:", read()[2], flush=True)
if mode in ("garbage", "garbage-first"):
    s.sendall(struct.pack(">I", 6) + b"\\xc1\\xc1\\xc1\\xc1\\xc1\\xc1")
elif mode == "oversized":
    s.sendall(struct.pack(">I", 100 * 1024 * 1024) + b"x" * 65536)
elif mode == "flood":  # one-way calls without waiting for HexChat's acks
    s.sendall(b"".join(struct.pack(">I", len(b)) + b for b in
                       [msgpack.packb([2, "prnt", [None, "flood %d" % i]]) for i in range(5000)]))
elif mode == "not-a-message":
    body = msgpack.packb({"hello": "world"})
    s.sendall(struct.pack(">I", len(body)) + body)
try:
    rest = s.recv(65536)
    while rest:
        rest = s.recv(65536)
except ConnectionResetError:
    pass
print("closed", flush=True)
'''


@pytest.mark.parametrize("mode, told", [
    ("garbage", "rawapp sent a malformed message"),
    ("oversized", f"rawapp sent a message of 104857600 bytes (the limit is {MAX_FRAME_FROM_WORKER})"),
    ("not-a-message", "rawapp sent a malformed message"),
    ("flood", "rawapp sent more than 64 one-way calls without waiting for them to be served"),
    ("garbage-first", None),
])
def test_a_malformed_or_oversized_frame_drops_that_connection_only(remote, scripted_server, mode, told):
    hc = remote.hc
    first = remote.start(remote.cli_argv("info", "--name", "rawapp", "channel"))
    remote.allow("rawapp")
    assert first.communicate(timeout=20)[0] == "#test\n"
    good = _events(remote, "bystander")
    before = len(reports(hc))
    out = remote.run(remote.python_argv(RAW_CLIENT, mode), timeout=30).stdout
    assert out.endswith("closed\n")
    if told is not None:
        assert out.startswith("hello: None\n")
        text = wait_report(hc, told, since=before)
        assert text.endswith("; it was stopped.")
        assert [t for t in reports(hc)[before:] if "rawapp" in t] == [text], "told once"
    # The other app and HexChat go on.
    scripted_server.privmsg("#test", "still here")
    assert json.loads(good.stdout.readline())["words"] == ["alice", "still here"]
    assert [a["path"] for a in wait_externals(hc, lambda apps: len(apps) == 1)] == ["app:bystander"]
    good.terminate()
    good.wait(10)


CENSOR = '''
import time
import hexsandbox.remote
hc = hexsandbox.remote.connect(name="censor")
def on_message(word, word_eol, userdata):
    if "secret" in word[1]:
        return hc.EAT_ALL
    if "slow" in word[1]:
        time.sleep(2)
    return hc.EAT_NONE
hc.hook_print("Channel Message", on_message)
hc.run()
'''


def test_the_app_decides_eat_per_event_within_the_deadline(remote, scripted_server):
    hc = remote.hc
    app = remote.start(remote.python_argv(CENSOR))
    remote.allow("censor")
    wait_externals(hc, lambda apps: [a["hooks"] for a in apps] == [1])
    scripted_server.privmsg("#test", "a secret line")
    scripted_server.privmsg("#test", "a public line")
    scripted_server.roundtrip()
    lines = _lines(hc)
    assert "a public line" in lines and "a secret line" not in lines
    before = len(reports(hc))
    scripted_server.privmsg("#test", "a slow line")
    scripted_server.privmsg("#test", "after the slow one")
    late = wait_report(hc, "censor did not answer print 'Channel Message' within 500 ms", since=before)
    assert "HexChat no longer waits for it (its hooks still run, uneaten)" in late
    scripted_server.roundtrip()
    assert {"a slow line", "after the slow one"} <= set(_lines(hc)), "not eaten: passed on time"
    # Skipped as a late script is: its events still reach it, but HexChat
    # does not wait for (nor obey) its eat value until it keeps up again.
    scripted_server.privmsg("#test", "a secret after the stall")
    scripted_server.roundtrip()
    assert "a secret after the stall" in _lines(hc)
    assert [t for t in reports(hc)[before:] if "censor" in t] == [late], "told once"
    app.terminate()
    app.wait(10)
    wait_report(hc, "application censor disconnected; its hooks were removed.", since=before)


def test_apps_are_listed_and_the_plugins_window_unloads_them(remote, scripted_server):
    hc = remote.hc
    app = _events(remote, "windowed")
    hc.command("sandbox list")
    scripted_server.roundtrip()
    row = [l for l in _lines(hc) if l.startswith("windowed ")][0].split()
    assert row[:4] == ["windowed", "-", "running", str(app.pid)]
    hc.command("sandbox apps")
    scripted_server.roundtrip()
    apps = _lines(hc)[-3:]
    assert apps[0].split() == ["Application", "State", "PID", "Hooks"]
    assert apps[1].split() == ["windowed", "connected", str(app.pid), "1"]
    assert apps[2] == f"hexsandbox: endpoint {remote.socket_path}"
    assert plugins_window.open_window(hc)
    shown = plugins_window.rows(hc)
    listed = [r for r in shown if r["path"] == "app:windowed"]
    assert listed == [{"name": "windowed", "version": "remote", "file": "app:windowed",
                       "description": "external application", "path": "app:windowed"}]
    assert plugins_window.click_unload(hc, "app:windowed")
    assert app.wait(10) == 0, "its run() returned: HexChat unloaded it"
    wait_externals(hc, lambda apps: apps == [])
    assert not [r for r in plugins_window.rows(hc) if r["path"] == "app:windowed"]
    plugins_window.close_window(hc)
    assert not any("windowed disconnected" in t for t in reports(hc)), "an unload is no crash"


UNCHANGED_SCRIPT = '''
__module_name__ = "echo"
__module_version__ = "1.0"
__module_description__ = "answers !echo"
import hexchat
def on_msg(word, word_eol, userdata):
    if word[1].startswith("!echo "):
        hexchat.command("say echo " + word[1][6:])
hexchat.hook_print("Channel Message", on_msg)
'''


def test_run_remote_runs_an_unchanged_script(remote, scripted_server):
    hc = remote.hc
    path = remote.script(UNCHANGED_SCRIPT)
    app = remote.start(remote.cli_argv("run-remote", "--name", "echo-app", path))
    remote.allow("echo-app")
    wait_externals(hc, lambda apps: [a["hooks"] for a in apps] == [1])
    since = scripted_server.mark()
    scripted_server.privmsg("#test", "!echo over the socket")
    scripted_server.wait_for("PRIVMSG #test :echo over the socket", since=since)
    assert [a["name"] for a in external_scripts(hc)] == ["echo"]
    app.terminate()
    app.wait(10)


#: How long the connect/disconnect soak runs: the issue's 30 s, in CI too.
#: HEXSANDBOX_E2E_SOAK_S shortens it for a local run only (CI ignores it).
#: It is a ``stress`` test: run alone after the parallel suite (scripts/dev.sh).
SOAK_S = (30.0 if os.environ.get("CI", "").lower() in ("1", "true", "yes")
          else float(os.environ.get("HEXSANDBOX_E2E_SOAK_S", "30")))

LOAD = '''
import json, sys, threading, time
import hexsandbox.remote as r
end = time.monotonic() + float(sys.argv[1])
done, errors = [0], []
def loop():
    while time.monotonic() < end:
        try:
            with r.connect("loadapp", timeout=10) as hc:
                hc.hook_print("Channel Message", lambda *a: 0)
                assert hc.get_info("channel") == "#test"
            done[0] += 1
        except Exception as exc:
            errors.append(repr(exc))
threads = [threading.Thread(target=loop) for _ in range(20)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"connections": done[0], "errors": errors[:5], "error_count": len(errors)}))
'''

# A 30 s stress test with a bound on HexChat's main-loop gaps: run alone,
# after the parallel suite (scripts/dev.sh), or it measures the other tests.
@pytest.mark.stress
def test_twenty_apps_connecting_in_a_loop_leave_hexchat_responsive(remote, scripted_server):
    from remote_support import fd_count

    hc = remote.hc
    first = remote.start(remote.cli_argv("info", "--name", "loadapp", "channel"))
    remote.allow("loadapp")
    assert first.communicate(timeout=20)[0] == "#test\n"
    wait_externals(hc, lambda apps: apps == [])
    fds_before = fd_count(hc.pid)
    hc.eval(gap_probe.PROBE)
    load = remote.start(remote.python_argv(LOAD, str(SOAK_S)))
    # HexChat keeps answering IRC while it runs (a PING about every 100 ms).
    rounds, slowest = 0, 0.0
    with gap_probe.MachineStalls() as machine:
        while True:
            slowest = max(slowest, scripted_server.roundtrip(timeout=5))
            rounds += 1
            try:
                out, err = load.communicate(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                continue
    summary = json.loads(out)
    gap = hc.eval(gap_probe.READ)
    print(f"soak {SOAK_S} s: {summary['connections']} connections, max main-loop gap "
          f"{gap['max'] * 1000:.1f} ms over {gap['ticks']} ticks, {rounds} IRC round trips "
          f"(slowest {slowest * 1000:.1f} ms)")
    print(gap_probe.describe(gap, machine))
    assert summary["error_count"] == 0, summary
    assert summary["connections"] >= 20
    assert gap["max"] < 0.100, gap_probe.describe(gap, machine)
    wait_externals(hc, lambda apps: apps == [])
    assert fd_count(hc.pid) == fds_before, "no descriptor leaked"
    assert not [t for t in reports(hc) if "loadapp" in t and "disconnected" in t]


def test_a_perl_client_authenticates_sends_a_command_and_receives_an_event(remote, scripted_server):
    """Language-neutral: tests/e2e/remote_client.pl, written from the docs."""
    import shutil

    hc = remote.hc
    client = os.path.join(remote.dir, "remote_client.pl")
    shutil.copyfile(os.path.join(os.path.dirname(__file__), "remote_client.pl"), client)
    os.chmod(client, 0o644)
    since = scripted_server.mark()
    from harness.procs import as_user

    perl = remote.start(as_user(remote.env() + ["perl", client, remote.socket_path, "perlapp"]))
    assert perl.stdout.readline().startswith("waiting ")
    remote.allow("perlapp")
    token = perl.stdout.readline().split()
    assert token[0] == "token" and len(token[1]) >= 43
    assert perl.stdout.readline() == "ready\n"
    scripted_server.wait_for("PRIVMSG #test :hello from perl", since=since)
    wait_externals(hc, lambda apps: [a["hooks"] for a in apps] == [1])
    scripted_server.privmsg("#test", "hi perl")
    assert perl.stdout.readline() == "event alice|hi perl\n"
    assert perl.stdout.readline() == "done\n"
    assert perl.wait(10) == 0, perl.stderr.read()
    scripted_server.roundtrip()
    assert "hi perl" in _lines(hc), "EAT_NONE: HexChat showed it"
    wait_externals(hc, lambda apps: apps == [])
    assert not any("perlapp disconnected" in t for t in reports(hc)), "it left quietly"


WHOLE_API = '''
import json, sys, threading
import hexsandbox.remote
hc = hexsandbox.remote.connect(name="wholeapi")
seen = {}
done = threading.Event()
def report():
    print(json.dumps(seen), flush=True)
    done.set()
def on_cmd(word, word_eol, userdata):
    chan = hc.find_context(channel="#test")
    seen["channels"] = sorted(c.channel for c in hc.get_list("channels"))
    seen["users"] = sorted(u.nick for u in chan.get_list("users"))
    seen["nick_pref"] = hc.get_prefs("irc_nick1")
    seen["same_context"] = chan == hc.get_context()
    chan.prnt("printed by wholeapi")
    seen["pref_set"] = hc.set_pluginpref("wholeapi_pref", 42)
    seen["pref_get"] = hc.get_pluginpref("wholeapi_pref")
    return hc.EAT_ALL
def on_server(word, word_eol, userdata):
    if word[1] == "NOTICE" and "for wholeapi" in word_eol[0]:
        seen["server"] = word_eol[3]
        hc.hook_timer(50, on_timer)
    return hc.EAT_NONE
def on_timer(userdata):
    seen["timer"] = True
    report()
    return False
hc.hook_command("WHOLEAPI", on_cmd, help="/WHOLEAPI: try the API")
hc.hook_server("NOTICE", on_server)
print("ready", flush=True)
hc.start()
done.wait(30)
hc.close()
'''


def test_an_app_has_the_whole_api(remote, scripted_server):
    """Contexts, lists, prefs, pluginprefs, command, server and timer hooks."""
    hc = remote.hc
    app = remote.start(remote.python_argv(WHOLE_API))
    remote.allow("wholeapi")
    assert app.stdout.readline() == "ready\n"
    wait_externals(hc, lambda apps: [a["hooks"] for a in apps] == [2])
    hc.command("wholeapi", "#test")
    scripted_server.notice("#test", "a notice for wholeapi")
    seen = json.loads(app.stdout.readline())
    assert app.wait(10) == 0
    nick = hc.get_info("nick")
    channels, users, nick_pref = seen.pop("channels"), seen.pop("users"), seen.pop("nick_pref")
    assert seen == {"same_context": True, "pref_set": True, "pref_get": 42,
                    "server": ":a notice for wholeapi", "timer": True}
    assert len(channels) == 2 and "#test" in channels, "the server tab and #test"
    assert nick in users
    assert nick_pref == hc.eval("result = hexchat.get_prefs('irc_nick1')")
    assert "printed by wholeapi" in _lines(hc)


def test_hexchat_quitting_unloads_connected_apps_and_removes_the_socket(remote):
    hc = remote.hc
    app = _events(remote, "stayer")
    result = hc.stop()
    assert result.clean and not result.leftovers, result
    assert app.wait(10) == 0, "its run() returned: HexChat unloaded it"
    assert not os.path.exists(remote.socket_path)
