"""A small blocking IRC client to play other users in a channel.

No background thread: every read happens in the calling thread with a
deadline (the socket timeout is set to the time left), so a test can never
hang on it. PINGs from the server are answered while reading. Everything
received is kept in ``received`` (parsed), so a test can look back.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Union


@dataclass
class Message:
    raw: str
    prefix: str
    command: str
    params: List[str]

    @property
    def nick(self) -> str:
        return self.prefix.split("!", 1)[0]

    @property
    def target(self) -> str:
        return self.params[0] if self.params else ""

    @property
    def text(self) -> str:
        """The last parameter (the trailing text of PRIVMSG/NOTICE)."""
        return self.params[-1] if self.params else ""

    @property
    def action(self) -> Optional[str]:
        """The text of a CTCP ACTION, or None."""
        t = self.text
        if self.command == "PRIVMSG" and t.startswith("\x01ACTION ") and t.endswith("\x01"):
            return t[8:-1]
        return None

    def __str__(self) -> str:
        return self.raw


def parse(line: str) -> Message:
    prefix = ""
    rest = line
    if rest.startswith("@"):  # message tags: not used by ngircd, skip them
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    if rest.startswith(":"):
        prefix, _, rest = rest[1:].partition(" ")
    trailing = None
    if " :" in rest:
        rest, trailing = rest.split(" :", 1)
    elif rest.startswith(":"):
        rest, trailing = "", rest[1:]
    parts = rest.split()
    cmd = parts[0].upper() if parts else ""
    params = parts[1:]
    if trailing is not None:
        params.append(trailing)
    return Message(line, prefix, cmd, params)


MessageMatch = Union[str, Callable[[Message], bool]]


class IrcUser:
    def __init__(
        self,
        host: str,
        port: int,
        nick: str,
        user: Optional[str] = None,
        realname: str = "hexsandbox e2e user",
        timeout: float = 10.0,
    ):
        self.host, self.port = host, port
        self.nick = nick
        self.user = user or nick
        self.realname = realname
        self.timeout = timeout
        self.sock: Optional[socket.socket] = None
        self.received: List[Message] = []
        self._buf = b""
        self._pos = 0  # index in received of the next unread message

    # ------------------------------------------------------------ plumbing

    def send(self, line: str) -> None:
        if self.sock is None:
            raise ConnectionError("not connected")
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def _read_some(self, deadline: float) -> bool:
        """Read what is available before ``deadline``; False on timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise ConnectionError(f"{self.nick}: server closed the connection")
        self._buf += data
        while b"\n" in self._buf:
            raw, self._buf = self._buf.split(b"\n", 1)
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            msg = parse(line)
            if msg.command == "PING":
                self.send(f"PONG :{msg.text}")
            self.received.append(msg)
        return True

    def wait_for(self, match: MessageMatch, timeout: Optional[float] = None,
                 since: Optional[int] = None) -> Message:
        """Next message (from ``since``, default: after the last one returned)
        that matches: a command name ("366"), or a predicate on Message."""
        if isinstance(match, str):
            cmd = match.upper()
            pred = lambda m: m.command == cmd
        else:
            pred = match
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        pos = self._pos if since is None else since
        while True:
            while pos < len(self.received):
                m = self.received[pos]
                pos += 1
                if pred(m):
                    self._pos = pos
                    return m
            if not self._read_some(deadline):
                tail = "\n  ".join(m.raw for m in self.received[-15:])
                raise TimeoutError(
                    f"{self.nick}: nothing matching {match!r} within the timeout; last lines:\n  {tail}"
                )

    def mark(self) -> int:
        return len(self.received)

    # ---------------------------------------------------------------- IRC

    def connect(self) -> "IrcUser":
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.user} 0 * :{self.realname}")
        welcome = self.wait_for(lambda m: m.command in ("001", "433", "432", "ERROR"))
        if welcome.command != "001":
            raise ConnectionError(f"{self.nick}: registration failed: {welcome.raw}")
        self.nick = welcome.params[0]
        # End of MOTD (or no MOTD) completes the burst of welcome numerics.
        self.wait_for(lambda m: m.command in ("376", "422"))
        return self

    def join(self, channel: str, timeout: Optional[float] = None) -> List[str]:
        """JOIN and wait for the end of NAMES; returns the nicks listed."""
        since = self.mark()
        self.send(f"JOIN {channel}")
        names: List[str] = []

        def done(m: Message) -> bool:
            if m.command == "353" and m.params[-2].lower() == channel.lower():
                names.extend(n.lstrip("@+%&~") for n in m.text.split())
            if m.command in ("403", "405", "471", "473", "474", "475"):
                raise ConnectionError(f"{self.nick}: cannot join {channel}: {m.raw}")
            return m.command == "366" and m.params[1].lower() == channel.lower()

        self.wait_for(done, timeout, since=since)
        return names

    def part(self, channel: str, reason: str = "") -> None:
        self.send(f"PART {channel} :{reason}")

    def privmsg(self, target: str, text: str) -> None:
        self.send(f"PRIVMSG {target} :{text}")

    def notice(self, target: str, text: str) -> None:
        self.send(f"NOTICE {target} :{text}")

    def action(self, target: str, text: str) -> None:
        self.send(f"PRIVMSG {target} :\x01ACTION {text}\x01")

    def wait_privmsg(self, target: Optional[str] = None, nick: Optional[str] = None,
                     text: Optional[str] = None, command: str = "PRIVMSG",
                     timeout: Optional[float] = None) -> Message:
        """Next PRIVMSG (or ``command``="NOTICE") matching the given fields."""
        def pred(m: Message) -> bool:
            return (
                m.command == command
                and (target is None or m.target.lower() == target.lower())
                and (nick is None or m.nick.lower() == nick.lower())
                and (text is None or m.text == text)
            )
        return self.wait_for(pred, timeout)

    def sync(self, timeout: Optional[float] = None) -> None:
        """Round trip to the server: everything the server sent us before
        this call has been read into ``received`` when it returns."""
        token = f"sync{time.monotonic_ns()}"
        self.send(f"PING :{token}")
        self.wait_for(lambda m: m.command == "PONG" and m.text == token, timeout)

    def quit(self, reason: str = "bye") -> None:
        if self.sock is None:
            return
        try:
            self.send(f"QUIT :{reason}")
            self.wait_for(lambda m: m.command == "ERROR", timeout=2.0)
        except (OSError, TimeoutError, ConnectionError):
            pass
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.quit()
