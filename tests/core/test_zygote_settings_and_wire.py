"""``[sandbox] start =`` reaches the Sandbox, and the zygote socket decodes
nothing but small JSON objects (issue 14, item 1)."""

import os
import socket

import pytest

from hexsandbox import spawning
from hexsandbox.client import State
from hexsandbox.config import load_settings
from hexsandbox.emulator import Emulator
from hexsandbox.loader import Host
from hexsandbox.zygote import wire


def _ini(config_dir, text):
    os.makedirs(os.path.join(config_dir, "sandbox"), exist_ok=True)
    with open(os.path.join(config_dir, "sandbox", "hexsandbox.ini"), "w") as f:
        f.write(text)


@pytest.mark.parametrize("text, start, problems", [
    ("", None, []),
    ("[sandbox]\nstart = spawn\n", "spawn", []),
    ("[sandbox]\nstart = Zygote ; default\n", "zygote", []),
    ("[sandbox]\nstart = fork\n", "zygote",
     ["hexsandbox.ini [sandbox]: start = 'fork' is not one of zygote, spawn; using the default."]),
])
def test_the_start_setting_is_read(tmp_path, text, start, problems):
    _ini(str(tmp_path), text)
    settings = load_settings(str(tmp_path))
    assert (settings.start, settings.problems) == (start, problems)


def test_the_host_passes_the_setting_to_its_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv(spawning.START_ENV, "zygote")
    _ini(str(tmp_path), "[sandbox]\nstart = spawn\n")
    (tmp_path / "sandbox" / "one.py").write_text('__module_name__ = "one"\nimport hexchat\n')
    emu = Emulator(config_dir=str(tmp_path))
    emu.connect()
    host = Host(emu, str(tmp_path), load_settings(str(tmp_path)), wakeup="test")
    try:
        assert host.sandbox.start == "spawn"
        host.autoload()
        (script,) = host.sandbox.scripts
        emu.run_until(lambda: script.state is State.RUNNING, 20)
        with open(f"/proc/{script.pid}/stat", "rb") as f:
            assert int(f.read().rsplit(b")", 1)[1].split()[1]) == os.getpid(), "spawned"
        assert spawning.zygote_pid() is None
    finally:
        host.close()


@pytest.mark.parametrize("start, env, mode", [
    (None, "", "zygote"), (None, "spawn", "spawn"), ("zygote", "spawn", "zygote"),
    ("spawn", "zygote", "spawn"), (None, "nonsense", "zygote"),
])
def test_start_mode_precedence(monkeypatch, start, env, mode):
    monkeypatch.setenv(spawning.START_ENV, env)
    assert spawning.start_mode(start) == mode


def _fd_count():
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("data, why", [
    (b"x" * (wire.MAX_MESSAGE + 1), "too long"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not an object with an op"),
    (b'{"id": 1}', "not an object with an op"),
])
def test_a_bad_datagram_is_refused_and_its_descriptors_closed(data, why):
    ours, theirs = wire.socket_pair()
    with ours, theirs, open(os.devnull) as null:
        before = _fd_count()
        socket.send_fds(theirs, [data], [null.fileno(), null.fileno()])
        with pytest.raises(wire.WireError, match=why):
            wire.receive(ours)
        assert _fd_count() == before, "the descriptors that came with it are closed"


def test_too_many_descriptors_are_refused():
    ours, theirs = wire.socket_pair()
    with ours, theirs, open(os.devnull) as null:
        before = _fd_count()
        socket.send_fds(theirs, [b'{"op": "ready"}'], [null.fileno()] * (wire.MAX_FDS + 1))
        with pytest.raises(wire.WireError, match="too many descriptors"):
            wire.receive(ours)
        assert _fd_count() == before


def test_a_message_round_trips_with_its_descriptor():
    ours, theirs = wire.socket_pair()
    with ours, theirs, open(os.devnull) as null:
        wire.send(theirs, {"op": "forked", "id": 3, "pid": 42}, [null.fileno()])
        message, fds = wire.receive(ours)
        assert message == {"op": "forked", "id": 3, "pid": 42} and len(fds) == 1
        assert not os.get_inheritable(fds[0]), "never inherited by a program HexChat starts"
        assert wire.integer(message, "pid") == 42
        with pytest.raises(wire.WireError):
            wire.integer({"op": "x", "pid": True}, "pid")
        wire.close_all(fds)
        theirs.close()
        assert wire.receive(ours) is None, "end of file"


def _status(client):
    from hexsandbox.commands import SandboxCommands

    before = len(client.lines("#test"))
    client.emu.set_context(client.emu.context_of("#test"))  # where the user typed it
    SandboxCommands(client.sandbox, client.config_dir).run(["status", "-v"])
    return [l for l in client.lines("#test")[before:] if "Python workers" in l]


def test_status_says_how_workers_start(hexchat_client, monkeypatch):
    monkeypatch.setenv(spawning.START_ENV, "zygote")
    assert _status(hexchat_client) == [
        "hexsandbox: Python workers are forked by a zygote (started with the first worker), sharing its memory."]
    hexchat_client.load('__module_name__ = "one"\nimport hexchat\n')
    pid = spawning.zygote_pid()
    assert _status(hexchat_client) == [
        f"hexsandbox: Python workers are forked by a zygote (pid {pid}), sharing its memory."]
    os.kill(pid, 9)
    hexchat_client.load('__module_name__ = "two"\nimport hexchat\n')
    assert _status(hexchat_client) == ["hexsandbox: Python workers are spawned: their zygote exited."]
    hexchat_client.sandbox.start = "spawn"
    assert _status(hexchat_client) == [
        "hexsandbox: Python workers start as a fresh interpreter each ([sandbox] start = spawn)."]
