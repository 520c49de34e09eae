"""The endpoint's handshake and the allow-list, in process (no HexChat).

The real-HexChat suite (tests/e2e/test_remote_hexchat.py) covers the same
rules end to end; these pin the handshake's answers fast.
"""

import json
import os
import queue
import socket
import stat
import struct

import msgpack
import pytest

from hexsandbox.remote import handshake as H
from hexsandbox.remote.allowlist import AllowAll, AllowList, Verdict
from hexsandbox.remote.endpoint import Endpoint, EndpointError


def frame(msg):
    body = msgpack.packb(msg)
    return struct.pack(">I", len(body)) + body


def read(sock):
    head = sock.recv(4, socket.MSG_WAITALL)
    if not head:
        return None
    return msgpack.unpackb(sock.recv(struct.unpack(">I", head)[0], socket.MSG_WAITALL))


class Events:
    def __init__(self):
        self.q = queue.Queue()

    def admit(self, pending, token):
        self.q.put(("admit", pending.name, token, pending))

    def ask(self, pending):
        self.q.put(("ask", pending.name))

    def refused(self, peer, name, why):
        self.q.put(("refused", name, why))

    def next(self):
        return self.q.get(timeout=10)


@pytest.fixture
def endpoint(tmp_path):
    allow = AllowList(str(tmp_path / "apps.json"))
    ev = Events()
    ep = Endpoint(str(tmp_path / "run" / "api.sock"), allow, on_admit=ev.admit, on_ask=ev.ask,
                  on_refused=ev.refused)
    yield ep, allow, ev
    ep.close()


def connect(ep, name, token=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(ep.path)
    s.sendall(frame([0, 1, "hello", [None, name, token]]))
    return s


def test_socket_and_directory_are_private(endpoint):
    ep, _, _ = endpoint
    assert stat.S_IMODE(os.stat(ep.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(ep.path)).st_mode) == 0o700


def test_an_unknown_app_waits_gets_nothing_then_is_admitted_with_a_token(endpoint):
    ep, allow, ev = endpoint
    s = connect(ep, "newapp")
    assert read(s) == [2, H.WAITING, [None, "waiting for the user to type /sandbox allow newapp in HexChat"]]
    assert ev.next() == ("ask", "newapp")
    s.sendall(frame([0, 2, "get_info", [None, "channel"]]))
    assert read(s) == [1, 2, ["RuntimeError", "hexsandbox: newapp is not allowed yet"], None]
    token = allow.allow("newapp")
    ep.release("newapp", token)
    what, name, given, pending = ev.next()
    assert (what, name, given) == ("admit", "newapp", token) and pending.hello_id == 1
    pending.sock.close()
    s.close()
    assert allow.check("newapp", token) is Verdict.ALLOWED


def test_allowed_token_is_admitted_at_once_and_wrong_one_refused(endpoint):
    ep, allow, ev = endpoint
    token = allow.allow("known")
    s = connect(ep, "known", token)
    what, name, given, pending = ev.next()
    assert (what, name, given) == ("admit", "known", None)
    pending.sock.close()
    s.close()
    bad = connect(ep, "known", "not-the-token")
    assert read(bad) == [1, 1, ["RuntimeError", "hexsandbox: refused: its token is wrong or stale"], None]
    assert read(bad) is None
    assert ev.next() == ("refused", "known", "its token is wrong or stale")


def test_denied_and_refused_names(endpoint):
    ep, allow, ev = endpoint
    allow.deny("nope")
    s = connect(ep, "nope")
    assert read(s)[2] == ["RuntimeError", "hexsandbox: refused: the user denied it"]
    waiting = connect(ep, "later")
    assert read(waiting)[1] == H.WAITING
    ep.refuse("later")
    assert read(waiting)[2] == ["RuntimeError", "hexsandbox: refused: the user denied it"]


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "-dash", "ctl\x1b[31m", 7])
def test_a_bad_name_is_answered_and_closed(endpoint, name):
    ep, _, ev = endpoint
    s = connect(ep, name)
    answer = read(s)
    assert answer[0] == 1 and answer[2][1].startswith("hexsandbox: an application name is")
    assert read(s) is None


def test_garbage_first_or_an_oversized_frame_closes_without_a_word(endpoint):
    ep, _, _ = endpoint
    for data in (b"\x00\x00\x00\x03\xc1\xc1\xc1", struct.pack(">I", H.PREAUTH_MAX_FRAME + 1)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(ep.path)
        s.sendall(data)
        assert s.recv(100) == b""
        s.close()


def test_too_many_messages_while_waiting_drops_it(endpoint):
    ep, _, ev = endpoint
    s = connect(ep, "chatty")
    assert read(s)[1] == H.WAITING
    s.sendall(b"".join(frame([2, "prnt", [None, "x"]]) for _ in range(H.PREAUTH_MAX_MESSAGES + 1)))
    assert ev.next() == ("ask", "chatty")
    assert ev.next()[0] == "refused"
    assert read(s) is None


def test_a_live_socket_is_not_taken_over_a_stale_one_is(tmp_path):
    path = str(tmp_path / "run" / "api.sock")
    ev = Events()
    first = Endpoint(path, AllowAll(), on_admit=ev.admit, on_ask=ev.ask, on_refused=ev.refused)
    with pytest.raises(EndpointError, match="another program already listens"):
        Endpoint(path, AllowAll(), on_admit=ev.admit, on_ask=ev.ask, on_refused=ev.refused)
    first.close()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # a file nobody listens on
    again = Endpoint(path, AllowAll(), on_admit=ev.admit, on_ask=ev.ask, on_refused=ev.refused)
    again.close()
    assert not os.path.exists(path), "closing removes the socket file"


def test_a_directory_of_another_owner_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: os.stat(tmp_path).st_uid + 1)
    ev = Events()
    with pytest.raises(EndpointError, match="not to you"):
        Endpoint(str(tmp_path / "api.sock"), AllowAll(), on_admit=ev.admit, on_ask=ev.ask,
                 on_refused=ev.refused)


def test_the_allowlist_file_is_private_and_keeps_only_hashes(tmp_path):
    path = str(tmp_path / "apps.json")
    allow = AllowList(path)
    token = allow.allow("app")
    allow.deny("other")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = open(path).read()
    assert token not in text
    assert json.loads(text)["other"] == {"state": "denied"}
    again = AllowList(path)
    assert again.check("app", token) is Verdict.ALLOWED
    assert again.check("app", None) is Verdict.UNKNOWN
    assert again.check("other", None) is Verdict.DENIED
    again.forget("other")
    assert AllowList(path).check("other", None) is Verdict.UNKNOWN


def test_silence_or_half_a_hello_is_closed_at_the_deadline(endpoint, monkeypatch):
    import time

    monkeypatch.setattr(H, "HELLO_DEADLINE_S", 0.3)
    ep, _, _ = endpoint
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.settimeout(10)
    silent.connect(ep.path)
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.settimeout(10)
    half.connect(ep.path)
    half.sendall(frame([0, 1, "hello", [None, "slow", None]])[:7])
    t0 = time.monotonic()
    assert silent.recv(100) == b"" and half.recv(100) == b""
    assert time.monotonic() - t0 < 5


def test_at_most_max_handshakes_at_once(endpoint):
    from hexsandbox.remote.endpoint import MAX_HANDSHAKES

    ep, _, _ = endpoint
    held = []
    for _ in range(MAX_HANDSHAKES):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(ep.path)
        held.append(s)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(10)
    probe.connect(ep.path)
    assert probe.recv(100) == b"", "one more than the limit is closed at once"
    for s in held + [probe]:
        s.close()
