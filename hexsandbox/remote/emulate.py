"""``hexsandbox emulate --listen PATH``: the emulator serving the local API.

A test double for application authors' CI: a headless HexChat
(:class:`hexsandbox.emulator.Emulator`, connected and joined to a channel)
with the same endpoint, handshake and sandbox as inside HexChat. Decisions:

* every application of this user is allowed at first contact (``--only
  NAME`` allows just those and refuses the rest); the uid check still
  applies, as does everything after the handshake (deadline, limits);
* ``/emulate feed LINE`` (e.g. through ``hexsandbox send``) makes the
  emulator take LINE from its IRC server, so a test can cause events;
* timers run on the emulator's virtual clock, advanced with real time
  every ``TICK_MS``;
* ``--log-hooks`` prints a line each time a hook is registered (a test
  waits for its application's hooks with it);
* SIGINT or SIGTERM stops it; the socket file is removed.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, List, Optional

from ..emulator import Emulator
from ..sandbox import Sandbox
from .allowlist import AllowAll, AllowList, Verdict
from .service import RemoteService

TICK_MS = 50


class OnlyNames(AllowList):
    """Allows the listed names at first contact and refuses every other."""

    def __init__(self, names: List[str]) -> None:
        super().__init__(None)
        self.only = set(names)

    def check(self, name: str, token: Optional[str]) -> Verdict:
        return Verdict.ALLOWED if name in self.only else Verdict.DENIED


def _feed_command(emu: Emulator) -> Any:
    def feed(word: List[str], word_eol: List[str], _time: int) -> int:
        if len(word) > 2 and word[1].lower() == "feed":
            emu.feed(word_eol[2])
        else:
            emu.prnt("Usage: /EMULATE FEED <raw IRC line from the server>")
        return 3  # EAT_ALL
    return feed


def _announce_hooks(emu: Emulator) -> None:
    """Print a line on stdout each time an application's hook is in place,
    so that a test can wait for it instead of guessing (``--log-hooks``)."""
    for kind in ("hook_command", "hook_print", "hook_server"):
        register = getattr(emu, kind)

        def announced(name: str, *args: Any, _register: Any = register, _kind: str = kind) -> object:
            handle = _register(name, *args)
            print(f"hexsandbox: {_kind} {name!r} registered", flush=True)
            return handle

        setattr(emu, kind, announced)


def serve(listen: str, *, only: Optional[List[str]] = None, channel: str = "#test",
          nick: str = "tester", deadline_ms: int = 2000, log_hooks: bool = False,
          ready: Optional[threading.Event] = None, stop: Optional[threading.Event] = None) -> int:
    emu = Emulator(nick=nick)
    emu.connect()
    if channel:
        emu.join(channel, users=["alice", "bob"])
        emu.focus(channel)  # the tab "the user looks at": applications start there
    sandbox = Sandbox(emu, deadline_ms=deadline_ms, on_report=lambda r: print(r.text, flush=True))
    allowlist = OnlyNames(only) if only else AllowAll()
    service = RemoteService(sandbox, allowlist, listen)
    emu.hook_command("EMULATE", 0, "EMULATE FEED <line>", _feed_command(emu))
    if log_hooks:
        _announce_hooks(emu)
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        emu.call_soon(lambda: None)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

    def advance() -> None:
        emu.advance(TICK_MS)

    def tick() -> None:
        while not stop.wait(TICK_MS / 1000):
            emu.call_soon(advance)

    threading.Thread(target=tick, name="hexsandbox-emulate-clock", daemon=True).start()
    print(f"hexsandbox: emulator listening on {listen}", file=sys.stderr, flush=True)
    if ready is not None:
        ready.set()
    try:
        while not stop.is_set():
            try:
                emu.run_until(stop.is_set, timeout=3600)
            except TimeoutError:
                pass
    finally:
        service.close()
        sandbox.shutdown(timeout=2.0)
    return 0
