"""A scripted IRC server for exact-traffic and throughput tests.

It runs an asyncio loop in a background thread, listens on 127.0.0.1 (a free
port chosen by the kernel), and plays just enough of an IRC server for HexChat:

* registration: ``CAP LS`` (answers with the configured capabilities, ACKs
  ``CAP REQ`` of those), ``NICK`` / ``USER`` -> 001-005 and the MOTD (375,
  372, 376);
* ``JOIN`` -> the JOIN echo, 353 (names: the client plus configured members)
  and 366; ``MODE #chan`` -> 324; ``WHO`` -> 352/315; ``PING`` -> ``PONG``;
  ``QUIT`` -> ``ERROR`` and close;
* the echoes a real server sends, as ngircd does them (the same rules as the
  emulator's fake server, ``hexsandbox.emulator.fake_server``; checked against
  ngircd by tests/e2e/differential/test_server_echoes.py): ``PART`` (empty
  trailing without a reason), ``KICK`` (the reason defaults to the kicker's
  nick), ``AWAY`` -> 306 / bare ``AWAY`` -> 305, ``TOPIC #c :text``, ``NICK``
  after registration, ``MODE #c`` changes with arguments or flag modes.

Every line a client sends is recorded (``lines``). ``wait_for`` blocks on a
condition variable that the loop thread notifies on each new line: no
sleep-polling. ``send`` / ``burst`` write to the client from any thread; a
burst is written with a single ``transport.write`` of all its lines.

``roundtrip()`` sends a ``PING`` with a unique token and waits for HexChat's
``PONG``: HexChat processes server lines in order, so when the PONG comes
back every line written before the PING has been processed (printed, hooks
run).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Pattern, Sequence, Union

from .procs import HarnessError

Matcher = Union[str, Pattern[str], Callable[[str], bool]]


@dataclass
class Line:
    """One line received from a client (without CR LF)."""

    index: int
    conn_id: int
    text: str
    raw: bytes
    time: float

    @property
    def command(self) -> str:
        parts = self.text.split(" ")
        if parts and parts[0].startswith(":") and len(parts) > 1:
            return parts[1].upper()
        return parts[0].upper() if parts else ""

    def __str__(self) -> str:
        return self.text


def _matcher(match: Matcher) -> Callable[[str], bool]:
    if callable(match):
        return match
    if isinstance(match, str):
        # A plain string matches a line that starts with it (case-sensitive),
        # e.g. "JOIN #test" or "PRIVMSG #test :hi".
        return lambda text, _m=match: text.startswith(_m)
    return lambda text, _r=match: _r.search(text) is not None


class _Conn(asyncio.Protocol):
    def __init__(self, server: "ScriptedServer", conn_id: int):
        self.server = server
        self.id = conn_id
        self.transport: Optional[asyncio.Transport] = None
        self.buf = b""
        self.nick: Optional[str] = None
        self.user = "user"
        self.cap_negotiating = False
        self.got_user = False
        self.registered = False
        self.closed = False

    # asyncio callbacks (loop thread)
    def connection_made(self, transport):
        self.transport = transport
        self.server._on_connect(self)

    def data_received(self, data: bytes):
        self.buf += data
        while True:
            i = self.buf.find(b"\n")
            if i < 0:
                break
            raw, self.buf = self.buf[:i], self.buf[i + 1 :]
            raw = raw.rstrip(b"\r")
            self.server._on_line(self, raw)

    def connection_lost(self, exc):
        self.closed = True
        self.server._on_disconnect(self)

    # helpers (loop thread)
    def write_lines(self, lines: Iterable[str]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        data = "".join(l + "\r\n" for l in lines).encode("utf-8", "surrogateescape")
        self.transport.write(data)

    @property
    def prefix(self) -> str:
        return f"{self.nick}!{self.user}@127.0.0.1"


class ScriptedServer:
    """See the module docstring. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        server_name: str = "irc.scripted.test",
        network: Optional[str] = "ScriptedNet",
        caps: Sequence[str] = (),
        channel_members: Optional[Dict[str, List[str]]] = None,
        isupport: Sequence[str] = (
            "CHANTYPES=#&",
            "PREFIX=(ov)@+",
            "CHANMODES=beI,k,l,imnpst",
            "CASEMAPPING=rfc1459",
            "NICKLEN=30",
            "CHANNELLEN=50",
        ),
        on_line: Optional[Callable[["ScriptedServer", _Conn, str], bool]] = None,
    ):
        self.server_name = server_name
        self.network = network
        self.caps = list(caps)
        self.channel_members = dict(channel_members or {})
        self.isupport = list(isupport)
        self.on_line = on_line  # called first (loop thread); return True to skip default handling
        self.host = "127.0.0.1"
        self.port: Optional[int] = None

        self.lines: List[Line] = []
        self.connections: List[_Conn] = []
        self.joined: Dict[str, bool] = {}
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._server: Optional[asyncio.base_events.Server] = None

    # ----------------------------------------------------------- lifecycle

    def start(self, timeout: float = 10.0) -> "ScriptedServer":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="scripted-irc-server", daemon=True
        )
        self._thread.start()

        async def _listen():
            return await self._loop.create_server(
                lambda: _Conn(self, next(self._ids)), self.host, 0, reuse_address=True
            )

        self._server = asyncio.run_coroutine_threadsafe(_listen(), self._loop).result(timeout)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None:
            return
        loop = self._loop

        async def _close():
            for c in self.connections:
                if c.transport is not None:
                    c.transport.abort()
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        if loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(_close(), loop).result(timeout)
            except Exception:
                pass
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
        if not loop.is_running():
            loop.close()
        self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url_host(self) -> str:
        return f"{self.host}:{self.port}"

    # ------------------------------------------------- loop-thread handlers

    def _on_connect(self, conn: _Conn) -> None:
        with self._cond:
            self.connections.append(conn)
            self._cond.notify_all()

    def _on_disconnect(self, conn: _Conn) -> None:
        with self._cond:
            self._cond.notify_all()

    def _on_line(self, conn: _Conn, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        with self._cond:
            self.lines.append(Line(len(self.lines), conn.id, text, raw, time.monotonic()))
            self._cond.notify_all()
        if self.on_line is not None and self.on_line(self, conn, text):
            return
        try:
            self._default(conn, text)
        except Exception as e:  # never kill the loop over a malformed line
            conn.write_lines([f":{self.server_name} NOTICE * :scripted server error: {e!r}"])

    def _register(self, conn: _Conn) -> None:
        if conn.registered or conn.nick is None or conn.cap_negotiating:
            return
        if not conn.got_user:
            return
        conn.registered = True
        s, n = self.server_name, conn.nick
        tokens = ([f"NETWORK={self.network}"] if self.network else []) + self.isupport
        conn.write_lines(
            [
                f":{s} 001 {n} :Welcome to the {self.network or s} IRC network {conn.prefix}",
                f":{s} 002 {n} :Your host is {s}, running version scripted-1",
                f":{s} 003 {n} :This server was created for a test",
                f":{s} 004 {n} {s} scripted-1 iow beiklmnopstv",
                f":{s} 005 {n} {' '.join(tokens)} :are supported by this server",
                f":{s} 375 {n} :- {s} Message of the day -",
                f":{s} 372 {n} :- hexsandbox scripted test server",
                f":{s} 376 {n} :End of /MOTD command.",
            ]
        )
        with self._cond:
            self._cond.notify_all()

    def _default(self, conn: _Conn, text: str) -> None:
        s = self.server_name
        if text.startswith(":"):  # clients normally send no prefix; drop it
            text = text.split(" ", 1)[1] if " " in text else ""
        parts = text.split(" ")
        cmd = parts[0].upper()
        args = parts[1:]
        trailing = text.split(" :", 1)[1] if " :" in text else (args[-1] if args else "")
        n = conn.nick or "*"

        if cmd == "CAP" and args:
            sub = args[0].upper()
            if sub == "LS":
                conn.cap_negotiating = True
                conn.write_lines([f":{s} CAP {n} LS :{' '.join(self.caps)}"])
            elif sub == "REQ":
                req = trailing.split()
                if all(c.lstrip("-") in self.caps for c in req):
                    conn.write_lines([f":{s} CAP {n} ACK :{trailing}"])
                else:
                    conn.write_lines([f":{s} CAP {n} NAK :{trailing}"])
            elif sub == "END":
                conn.cap_negotiating = False
                self._register(conn)
        elif cmd == "NICK" and args:
            new = args[0].lstrip(":")
            if conn.registered and conn.nick is not None:
                conn.write_lines([f":{conn.prefix} NICK :{new}"])
            conn.nick = new
            self._register(conn)
        elif cmd == "USER" and args:
            conn.user = args[0]
            conn.got_user = True
            self._register(conn)
        elif cmd == "PING":
            conn.write_lines([f":{s} PONG {s} :{trailing}"])
        elif cmd == "JOIN" and args:
            for chan in args[0].split(","):
                members = [m for m in self.channel_members.get(chan, []) if m != conn.nick]
                names = " ".join(["@" + conn.nick] + members)
                conn.write_lines(
                    [
                        f":{conn.prefix} JOIN {chan}",
                        f":{s} 353 {n} = {chan} :{names}",
                        f":{s} 366 {n} {chan} :End of /NAMES list.",
                    ]
                )
                with self._cond:
                    self.joined[chan.lower()] = True
                    self._cond.notify_all()
        elif cmd == "PART" and args:
            for chan in args[0].split(","):
                conn.write_lines([f":{conn.prefix} PART {chan} :{trailing if ' :' in text else ''}"])
                with self._cond:
                    self.joined.pop(chan.lower(), None)
        elif cmd == "KICK" and len(args) >= 2:
            reason = text.split(" :", 1)[1] if " :" in text else conn.nick
            conn.write_lines([f":{conn.prefix} KICK {args[0]} {args[1]} :{reason}"])
        elif cmd == "AWAY":
            if " :" in text or (args and args[0]):
                conn.write_lines([f":{s} 306 {n} :You have been marked as being away"])
            else:
                conn.write_lines([f":{s} 305 {n} :You are no longer marked as being away"])
        elif cmd == "TOPIC" and args and " :" in text:
            conn.write_lines([f":{conn.prefix} TOPIC {args[0]} :{text.split(' :', 1)[1]}"])
        elif cmd == "MODE" and args and args[0][:1] in "#&" and len(args) == 1:
            conn.write_lines([f":{s} 324 {n} {args[0]} +nt"])
        elif cmd == "MODE" and len(args) >= 2 and args[0][:1] in "#&":
            words = text.split()[1:]  # runs of spaces collapse, as on ngircd
            changes = words[1]
            if len(words) > 2 or (changes.strip("+-") and all(c in "imnpst+-" for c in changes)):
                conn.write_lines([f":{conn.prefix} MODE {' '.join(words)}"])
        elif cmd == "WHO" and args:
            target = args[0]
            conn.write_lines(
                [
                    f":{s} 352 {n} {target} {conn.user} 127.0.0.1 {s} {n} H@ :0 {n}",
                    f":{s} 315 {n} {target} :End of /WHO list.",
                ]
            )
        elif cmd == "QUIT":
            conn.write_lines([f"ERROR :Closing link: 127.0.0.1 (Quit: {trailing})"])
            if conn.transport is not None:
                conn.transport.close()

    # ------------------------------------------------------- test-side API

    def _call(self, fn, *args) -> None:
        if self._loop is None:
            raise HarnessError("scripted server is not running")
        self._loop.call_soon_threadsafe(fn, *args)

    @property
    def conn(self) -> _Conn:
        """The most recent client connection."""
        with self._cond:
            if not self.connections:
                raise HarnessError("no client is connected to the scripted server")
            return self.connections[-1]

    @property
    def nick(self) -> Optional[str]:
        return self.conn.nick

    def mark(self) -> int:
        """Index of the next line to be received (use as ``since=``)."""
        with self._cond:
            return len(self.lines)

    def wait_for(self, match: Matcher, timeout: float = 10.0, since: int = 0) -> Line:
        """First line at index >= ``since`` matching ``match`` (a prefix
        string, a compiled regex, or a predicate on the text). Raises
        TimeoutError with the recent traffic after ``timeout`` s."""
        pred = _matcher(match)
        deadline = time.monotonic() + timeout
        pos = since
        with self._cond:
            while True:
                while pos < len(self.lines):
                    line = self.lines[pos]
                    pos += 1
                    if pred(line.text):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = "\n  ".join(l.text for l in self.lines[-20:])
                    raise TimeoutError(
                        f"no line matching {match!r} within {timeout}s; last lines:\n  {recent}"
                    )
                self._cond.wait(remaining)

    def lines_since(self, since: int = 0) -> List[str]:
        with self._cond:
            return [l.text for l in self.lines[since:]]

    def wait_registered(self, timeout: float = 10.0) -> _Conn:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for c in reversed(self.connections):
                    if c.registered and not c.closed:
                        return c
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no client registered within {timeout}s")
                self._cond.wait(remaining)

    def wait_joined(self, channel: str, timeout: float = 10.0) -> None:
        """Until the client has sent JOIN for ``channel`` and been answered.
        Follow with ``roundtrip()`` to know HexChat has processed the answer."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.joined.get(channel.lower()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"client did not join {channel} within {timeout}s")
                self._cond.wait(remaining)

    def send(self, *lines: str) -> None:
        """Write lines (without CR LF) to the latest client."""
        conn = self.conn
        self._call(conn.write_lines, list(lines))

    def burst(self, lines: Sequence[str]) -> None:
        """Write all ``lines`` to the latest client with one transport write."""
        self.send(*lines)

    def privmsg(self, target: str, text: str, nick: str = "alice") -> None:
        self.send(f":{nick}!{nick}@127.0.0.1 PRIVMSG {target} :{text}")

    def notice(self, target: str, text: str, nick: str = "alice") -> None:
        self.send(f":{nick}!{nick}@127.0.0.1 NOTICE {target} :{text}")

    def roundtrip(self, timeout: float = 10.0) -> float:
        """PING the client and wait for its PONG; returns the seconds it took.
        Everything written before has been processed by the client when this
        returns."""
        token = f"e2e-sync-{next(self._tokens)}-{time.monotonic_ns()}"
        since = self.mark()
        t0 = time.perf_counter()
        self.send(f"PING :{token}")
        self.wait_for(lambda t: t.upper().startswith("PONG") and token in t, timeout, since)
        return time.perf_counter() - t0
