"""Play one scenario on real HexChat (in process or sandboxed) or on the emulator.

Scenario steps are the emulator's format (``hexsandbox.emulator.scenario``):

* ``{"server": raw}``                 a line from the IRC server
* ``{"input": text, "context": tab}`` typed in a tab (``/cmd`` or a message)
* ``{"command": text, "context": tab}`` ``hexchat.command`` in a tab
* ``{"focus": tab}``                  bring a tab to the front
* ``{"advance": ms, "until": text}``  time passes. The emulator moves its
  virtual clock by ``ms``; real HexChat waits (bounded) until a printed line
  contains ``until`` (an observable marker the script prints), never a bare
  sleep. ``until`` is required when a real HexChat plays the step.

All three sides share one world: HexChat's harness defaults (nick
``e2ebot``, user ``e2e``), the scripted server ``irc.scripted.test`` of
network ``ScriptedNet`` at 127.0.0.1, and ``#test`` joined with ``alice`` and
``+bob`` in it. The script is loaded *after* that (``/load`` in ``#test``), so
each side cuts everything before the load and compares the rest.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from harness import DEFAULT_CONFIG, HexChat, ScriptedServer
from sandbox_support import SandboxedHexChat

from hexsandbox.emulator import Emulator
from hexsandbox.emulator.sandbox_loader import SandboxLoader
from hexsandbox.testing import EmulatedClient

from .normalise import Transcript, counts, normalise

NICK = "e2ebot"
USER = "e2e"
CHANNEL = "#test"
MEMBERS = ["alice", "+bob"]
SERVER_NAME = "irc.scripted.test"
NETWORK = "ScriptedNet"
HOST = "127.0.0.1"
# HexChat honours IRCv3 @time tags only once server-time is acknowledged; the
# emulator does not model CAP and always honours them, so the world has it.
CAPS = ("server-time",)
INPROC_DIR = "diffscripts"       # under the config dir; not autoloaded
MARKER_TIMEOUT = 15.0
ADVANCE_STEP_MS = 10


@dataclass
class Scenario:
    """One script plus the traffic it gets."""

    name: str
    filename: str                 # e.g. "greeter.py"
    source: str
    steps: List[Dict[str, Any]]
    prefs: Dict[str, str] = field(default_factory=dict)   # addon_python.conf before start
    emulator_xfail: Optional[str] = None                  # reason, if the emulator differs
    #: For a script that must fail to load: a line its failure prints (waited
    #: for instead of the script running).
    load_failure: Optional[str] = None

    @property
    def module_name(self) -> str:
        m = re.search(r"^__module_name__\s*=\s*['\"]([^'\"]+)['\"]", self.source, re.MULTILINE)
        assert m, "%s has no __module_name__" % self.filename
        return m.group(1)

    def prefs_text(self) -> str:
        return "".join("%s = %s\n" % kv for kv in self.prefs.items())


def make_server() -> ScriptedServer:
    return ScriptedServer(server_name=SERVER_NAME, network=NETWORK, caps=CAPS,
                          channel_members={CHANNEL: list(MEMBERS)})


# ------------------------------------------------------------ real HexChat

class _ExtraFiles:
    """Writes ``files`` ({path relative to config dir: text}) before start."""

    def __init__(self, *args: Any, files: Optional[Mapping[str, str]] = None, **kwargs: Any) -> None:
        self.extra_files = dict(files or {})
        super().__init__(*args, **kwargs)

    def add_scripts(self, scripts, _before_start=False):  # type: ignore[override]
        names = super().add_scripts(scripts, _before_start)
        if _before_start:
            for rel, text in self.extra_files.items():
                path = os.path.join(self.config_dir, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
        return names


class DiffHexChat(_ExtraFiles, HexChat):
    pass


class DiffSandboxedHexChat(_ExtraFiles, SandboxedHexChat):
    pass


def hexchat_files(scn: Scenario, mode: str) -> Dict[str, str]:
    files = {}
    if scn.prefs:
        files["addon_python.conf"] = scn.prefs_text()
    if mode == "inproc":
        files[os.path.join(INPROC_DIR, scn.filename)] = scn.source
    return files


def script_path(hc: HexChat, scn: Scenario, mode: str) -> str:
    if mode == "inproc":
        return os.path.join(hc.config_dir, INPROC_DIR, scn.filename)
    return os.path.join(hc.config_dir, "sandbox", scn.filename)


def sandbox_ini(scn: Scenario) -> str:
    # Loaded by /load after joining, like the in-process copy: not at start.
    return "[defaults]\nrestart = no\n\n[script:%s]\nautoload = no\n" % scn.filename


def wait_marker(hc: HexChat, marker: str, baseline: Mapping[str, int],
                timeout: float = MARKER_TIMEOUT) -> None:
    """Bounded wait until a line printed after ``baseline`` contains ``marker``.

    A prnt() fires no event a test could hook, so this reads the transcript
    (a round trip to HexChat's main thread) until it shows the line, backing
    off a little between reads so that the check does not load the CPU."""
    end = time.monotonic() + timeout
    delay = 0.01
    while True:
        t = hc.transcript()
        for tab, lines in t.items():
            if any(marker in l for l in lines[baseline.get(tab.lower(), 0):]):
                return
        if time.monotonic() > end:
            raise AssertionError("no line containing %r within %s s; transcript: %r"
                                 % (marker, timeout, t))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def settle_server(server: ScriptedServer) -> None:
    """The server's answers to what a step sent are processed before the
    next step, as the emulator's settle() delivers its fake server's.

    The first round trip's PONG comes after every line HexChat sent for the
    step, so the server has answered them all when it returns (it handles a
    connection's lines in order); the second one's PONG comes after HexChat
    has processed those answers."""
    server.roundtrip()
    server.roundtrip()


def _baseline(hc: HexChat) -> Dict[str, int]:
    return counts(hc.transcript())


def play_hexchat(hc: HexChat, server: ScriptedServer, scn: Scenario, mode: str) -> Transcript:
    """Load the script in ``#test`` and play the steps; the normalised transcript."""
    server.roundtrip()
    base = _baseline(hc)
    mark = server.mark()
    hc.command("load %s" % script_path(hc, scn, mode), CHANNEL)
    if scn.load_failure:
        wait_marker(hc, scn.load_failure, base)  # in process /load is synchronous: already there
    elif mode == "sandbox":
        assert isinstance(hc, SandboxedHexChat)
        hc.wait_running(scn.module_name)
    for step in scn.steps:
        ctx = step.get("context")
        if "server" in step:
            server.send(step["server"])
            server.roundtrip()
        elif "input" in step:
            text = step["input"]
            # Typed text: /cmd runs the command, anything else is what /say does.
            hc.command(text[1:] if text.startswith("/") else "say " + text, ctx or CHANNEL)
            settle_server(server)
        elif "command" in step:
            hc.command(step["command"], ctx or CHANNEL)
            settle_server(server)
        elif "focus" in step:
            hc.command("gui focus", step["focus"])
        elif "advance" in step:
            marker = step.get("until")
            if not marker:
                raise ValueError("real HexChat needs 'until' on advance steps: %r" % (step,))
            wait_marker(hc, marker, base)
        else:
            raise ValueError("unsupported scenario step: %r" % (step,))
    server.roundtrip()
    lines = hc.transcript()
    try:
        with open(os.path.join(hc.config_dir, "addon_python.conf"), encoding="utf-8") as f:
            prefs = f.read()
    except FileNotFoundError:
        prefs = ""
    return normalise(lines, base, server.lines_since(mark), prefs, hc.config_dir)


# ------------------------------------------------------------ the emulator

class WorldClient(EmulatedClient):
    """EmulatedClient in the same world as the e2e HexChat (see module doc)."""

    def __init__(self, config_dir: str, deadline_ms: int = 2000) -> None:
        # EmulatedClient.__init__ builds an Emulator of its own default world;
        # this sets the same attributes with the e2e world instead.
        from hexsandbox.client import Sandbox

        self._own_dir = False
        self.config_dir = config_dir
        self._counter = 0
        self.emu = Emulator(config_dir=config_dir, nick=NICK, network=NETWORK,
                            server=SERVER_NAME, user=USER)
        self.sandbox = Sandbox(self.emu, deadline_ms=deadline_ms)
        emu = self.emu
        emu.attach_python_loader(SandboxLoader(self.sandbox))  # /py load, /py list
        for key, value in DEFAULT_CONFIG.items():
            if emu.prefs.type_of(key):
                emu.prefs.set(key, value)
        emu.serv.hostname = HOST
        # Exactly what the scripted server sends: registration (as
        # ScriptedServer._register), then its answers to JOIN, MODE and WHO.
        me = "%s!%s@%s" % (NICK, USER, HOST)
        s, n = SERVER_NAME, NICK
        tokens = " ".join(["NETWORK=%s" % NETWORK] + list(ScriptedServer().isupport))
        for line in (
            ":%s 001 %s :Welcome to the %s IRC network %s" % (s, n, NETWORK, me),
            ":%s 002 %s :Your host is %s, running version scripted-1" % (s, n, s),
            ":%s 003 %s :This server was created for a test" % (s, n),
            ":%s 004 %s %s scripted-1 iow beiklmnopstv" % (s, n, s),
            ":%s 005 %s %s :are supported by this server" % (s, n, tokens),
            ":%s 375 %s :- %s Message of the day -" % (s, n, s),
            ":%s 372 %s :- hexsandbox scripted test server" % (s, n),
            ":%s 376 %s :End of /MOTD command." % (s, n),
        ):
            emu.feed(line)
        emu.sent.extend(["CAP LS 302", "NICK %s" % NICK, "USER %s 0 * :%s" % (USER, DEFAULT_CONFIG["irc_real_name"])])
        emu.sent.append("JOIN %s" % CHANNEL)
        for line in (
            ":%s JOIN %s" % (me, CHANNEL),
            ":%s 353 %s = %s :@%s %s" % (SERVER_NAME, NICK, CHANNEL, NICK, " ".join(MEMBERS)),
            ":%s 366 %s %s :End of /NAMES list." % (SERVER_NAME, NICK, CHANNEL),
            ":%s 324 %s %s +nt" % (SERVER_NAME, NICK, CHANNEL),
            ":%s 352 %s %s %s %s %s %s H@ :0 %s" % (SERVER_NAME, NICK, CHANNEL, USER, HOST,
                                                    SERVER_NAME, NICK, NICK),
            ":%s 315 %s %s :End of /WHO list." % (SERVER_NAME, NICK, CHANNEL),
        ):
            emu.feed(line)
        emu.pump()


def play_emulator(scn: Scenario, config_dir: str, hooks_async: bool = False) -> Transcript:
    if scn.prefs:
        with open(os.path.join(config_dir, "addon_python.conf"), "w", encoding="utf-8") as f:
            f.write(scn.prefs_text())
    client = WorldClient(config_dir)
    try:
        emu = client.emu
        base = counts(emu.all_lines())
        sent_mark = len(emu.sent)
        path = os.path.join(config_dir, scn.filename)
        with open(path, "w", encoding="utf-8") as f:
            f.write(scn.source)
        emu.set_context(emu.context_of(CHANNEL))
        client.load(path, hooks_async=hooks_async)
        for step in scn.steps:
            ctx = step.get("context")
            if "server" in step:
                client.feed(step["server"])
            elif "input" in step:
                client.type(step["input"], ctx or CHANNEL)
            elif "command" in step:
                emu.set_context(emu.context_of(ctx or CHANNEL))
                client.command(step["command"])
            elif "focus" in step:
                emu.focus(step["focus"])
                emu.pump()
            elif "advance" in step:
                # Small steps, each followed by a round trip to the worker: a
                # sandboxed timer is re-armed only when its callback has
                # answered, which takes real time, not virtual time.
                left = int(step["advance"])
                while left > 0:
                    chunk = min(left, ADVANCE_STEP_MS)
                    emu.advance(chunk)
                    client.settle()
                    left -= chunk
            else:
                raise ValueError("unsupported scenario step: %r" % (step,))
            client.settle()
        return normalise(emu.all_lines(), base, emu.sent[sent_mark:], emu.pluginprefs.contents(),
                         config_dir)
    finally:
        client.close()
