"""External applications over the local API, against real HexChat 2.16.

HexChat runs as the e2e user; allowed clients run as that user too
(remote_support.Apps), the test process is "another uid".
"""

import json
import os
import socket
import stat
import struct

import msgpack
import pytest

from harness import plugins_window
from remote_support import REMOTE_INI, Apps, reports, wait_externals, wait_report


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
    s.sendall(struct.pack(">I", len(body)) + body)
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
