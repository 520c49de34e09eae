"""pytest fixtures that run real HexChat 2.16 (see docs/testing-with-hexchat.md).

Fixtures:
  e2e_system        session: checks the machine (scripts/setup-system.sh was run)
  xvfb              session (one per xdist worker): a private Xvfb display
  scripted_server   a ScriptedServer on 127.0.0.1 (exact traffic, bursts)
  ngircd            a private ngircd on 127.0.0.1
  irc_user          factory: irc_user(nick='alice', channels=('#test',), server=ngircd) -> IrcUser
  hexchat_factory   factory: hexchat_factory(server=..., channel='#test', scripts=..., config=...) -> HexChat
  hexchat           a HexChat connected to ``scripted_server`` and joined to #test
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, List, Mapping, Optional, Sequence, Union

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import HexChat, IrcUser, Ngircd, ScriptedServer, Xvfb, stop_unstopped  # noqa: E402
from harness.procs import e2e_user_name, find_program, is_alive, is_root  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: runs real HexChat under Xvfb (needs scripts/setup-system.sh)")


def pytest_collection_modifyitems(config, items):
    here = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)


def _system_problems() -> List[str]:
    problems = []
    for prog in ("hexchat", "Xvfb", "xdotool", "setpriv", "ngircd"):
        if find_program(prog) is None:
            problems.append(f"{prog} not found")
    if not any(os.path.exists(p) for p in (
        "/usr/lib/x86_64-linux-gnu/hexchat/plugins/python.so",
        "/usr/lib/aarch64-linux-gnu/hexchat/plugins/python.so",
        "/usr/lib/hexchat/plugins/python.so",
    )):
        problems.append("HexChat's python plugin (hexchat-python3) not found")
    try:
        import pwd

        pwd.getpwnam(e2e_user_name())
    except KeyError:
        problems.append(f"user {e2e_user_name()} missing")
    if not is_root():
        ok = find_program("sudo") is not None and subprocess.run(
            ["sudo", "-n", "true"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20,
        ).returncode == 0
        if not ok:
            problems.append("not root and no passwordless sudo")
    return problems


@pytest.fixture(scope="session")
def e2e_system():
    problems = _system_problems()
    if problems:
        msg = "e2e prerequisites missing (run scripts/setup-system.sh): " + "; ".join(problems)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)  # never skip silently in CI
        pytest.skip(msg)


@pytest.fixture(scope="session")
def xvfb(e2e_system, tmp_path_factory):
    x = Xvfb().start(log_path=str(tmp_path_factory.mktemp("xvfb") / "xvfb.log"))
    yield x
    pid = x.pid
    x.stop()
    assert not is_alive(pid), f"Xvfb {pid} survived its teardown"


@pytest.fixture
def scripted_server():
    s = ScriptedServer().start()
    yield s
    s.stop()


@pytest.fixture
def ngircd(e2e_system):
    n = Ngircd().start()
    yield n
    pid = n.pid
    n.stop()
    assert not is_alive(pid), f"ngircd {pid} survived its teardown"


@pytest.fixture
def irc_user(request):
    """Factory of IRC users (other people in the channel), on ngircd by default."""
    users: List[IrcUser] = []

    def make(nick: str = "alice", channels: Sequence[str] = ("#test",), server: Any = None,
             timeout: float = 10.0) -> IrcUser:
        srv = server if server is not None else request.getfixturevalue("ngircd")
        u = IrcUser(srv.host, srv.port, nick, timeout=timeout).connect()
        users.append(u)
        for c in channels:
            u.join(c)
        return u

    yield make
    for u in users:
        u.quit()


@pytest.fixture
def hexchat_factory(request, xvfb):
    """Start HexChats for this test; all are stopped at teardown.

    hexchat_factory(server=None, channel='#test', scripts=None, config=None,
                    nick=None, env=None, extra_args=(), wait_joined=True,
                    start_timeout=30.0, first_addon=None) -> HexChat

    server: anything with .host and .port (default: the scripted_server
    fixture); scripts: {file name: source} or a list of paths, put in
    addons/ before start; config: hexchat.conf overrides; first_addon: one of
    scripts that HexChat's Python plugin must autoload before the others
    (harness/addon_order.py).

    At teardown, every instance the test did not stop itself is stopped; if
    HexChat left processes behind (reparented workers, /exec children...),
    the test errors with their PIDs and command lines. A test that calls
    .stop() itself gets the StopResult and checks it itself.
    """
    instances: List[HexChat] = []

    def start(
        server: Any = None,
        channel: Optional[str] = "#test",
        scripts: Union[Mapping[str, str], Sequence[str], None] = None,
        config: Optional[Mapping[str, Any]] = None,
        nick: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        extra_args: Sequence[str] = (),
        wait_joined: bool = True,
        start_timeout: float = 30.0,
        first_addon: Optional[str] = None,
    ) -> HexChat:
        if server is None:
            server = request.getfixturevalue("scripted_server")
        cfg = dict(config or {})
        if nick:
            cfg.setdefault("irc_nick1", nick)
        hc = HexChat(xvfb, server.host, server.port, channel=channel, scripts=scripts,
                     config=cfg, env=env, extra_args=extra_args,
                     start_timeout=start_timeout, wait_joined=wait_joined, first_addon=first_addon)
        instances.append(hc)
        hc.start()
        return hc

    yield start
    problems = stop_unstopped(instances)
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def hexchat(hexchat_factory):
    """HexChat connected to the scripted_server fixture, joined to #test."""
    return hexchat_factory()


# hexsandbox inside HexChat: sandbox_env, sandboxed_hexchat_factory
from sandbox_support import sandbox_env, sandboxed_hexchat_factory  # noqa: E402,F401
