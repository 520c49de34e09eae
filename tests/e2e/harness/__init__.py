"""Harness that runs real HexChat 2.16 in tests: Xvfb, HexChat as an
unprivileged user with a control channel, ngircd, a scripted IRC server and
an IRC client helper. See docs/testing-with-hexchat.md."""

from .control import ControlClient, RemoteError
from .hexchat_process import DEFAULT_CONFIG, HexChat, StopResult, stop_unstopped
from .ircd import Ngircd
from .irc_client import IrcUser, Message
from .procs import HarnessError
from .scripted_server import ScriptedServer
from .xvfb import Xvfb

__all__ = [
    "ControlClient", "RemoteError", "DEFAULT_CONFIG", "HexChat", "StopResult", "stop_unstopped", "Ngircd",
    "IrcUser", "Message", "HarnessError", "ScriptedServer", "Xvfb",
]
