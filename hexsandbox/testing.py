"""A sandboxed HexChat for tests: the emulator plus real worker processes.

:class:`EmulatedClient` is what the ``hexchat_client`` pytest fixture gives a
script author (see :mod:`hexsandbox.pytest_plugin`). Loading a script runs it
in a real sandboxed worker, exactly as inside HexChat; only HexChat itself is
emulated. Nothing here sleeps: every wait is on an event, with a timeout.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from typing import Any, Callable, List, Optional, Union

from .client import RestartPolicy, Sandbox, Script, State
from .emulator import Emulator
from .emulator.sandbox_loader import SandboxLoader
from .environments.prepare import python_for_script


class EmulatedClient:
    """An emulated HexChat, connected and in a channel, running scripts sandboxed."""

    def __init__(self, config_dir: Optional[str] = None, *, nick: str = "tester",
                 channel: Optional[str] = "#test", users: Optional[List[str]] = None,
                 deadline_ms: int = 2000, python: Optional[str] = None,
                 restart: Optional[RestartPolicy] = None, connect: bool = True,
                 spin_us: Optional[int] = None) -> None:
        self._own_dir = config_dir is None
        self.config_dir = config_dir or tempfile.mkdtemp(prefix="hexsandbox-emu-")
        self.emu = Emulator(config_dir=self.config_dir, nick=nick)
        if connect:
            self.emu.connect()
            if channel:
                self.emu.join(channel, users=users if users is not None else ["alice", "bob"])
        self.sandbox = Sandbox(self.emu, deadline_ms=deadline_ms, python=python, restart=restart,
                               spin_us=spin_us)
        # `/py load`, `/py unload`, `/py list` typed in the emulator go through
        # this sandbox, as HexChat's Python plugin commands would.
        self.emu.attach_python_loader(SandboxLoader(self.sandbox))
        self._counter = 0

    # ------------------------------------------------------------- scripts
    def load(self, script: Union[str, os.PathLike], *, deadline_ms: Optional[int] = None,
             wait: bool = True, timeout: float = 20.0, hooks_async: bool = False) -> Script:
        """Load a script file, or script *source* (any string with a newline).

        With ``wait`` (default) returns once it has loaded or failed.
        ``hooks_async``: as ``[script:NAME] hooks = async`` in hexsandbox.ini.
        """
        path = os.fspath(script)
        if "\n" in path:
            self._counter += 1
            filename = os.path.join(self.config_dir, f"script_{self._counter}.py")
            with open(filename, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(path))
            path = filename
        # As if the user typed /sandbox load in the tab they are looking at.
        self.emu.set_context(self.emu.front_context())
        # Its declared packages first (PEP 723 / hexsandbox.ini), as inside HexChat.
        python = python_for_script(path, self.sandbox.python, self.config_dir)
        loaded = self.sandbox.load(path, deadline_ms=deadline_ms, python=python,
                                   hooks_async=hooks_async)
        if wait:
            self.wait_for(lambda: loaded.state is not State.STARTING or loaded.dead, timeout,
                          f"{os.path.basename(path)} to load")
            self.settle(loaded)
        return loaded

    def unload(self, script: Script, timeout: float = 10.0) -> None:
        """Unload and wait until its worker has exited."""
        self.sandbox.unload(script)
        self.wait_for(lambda: script.dead, timeout, f"{script.label} to exit")

    def settle(self, script: Optional[Script] = None, timeout: float = 10.0) -> None:
        """Wait until every callback already queued in the worker(s) has run
        and everything they sent has been served (a round-trip barrier)."""
        targets = [script] if script else list(self.sandbox.scripts)
        for target in targets:
            # A late script is stuck in a callback: it cannot answer a barrier.
            if (target is not None and not target.dead and not target.late
                    and target.state in (State.RUNNING, State.STARTING)):
                self.sandbox.run_in_worker(target, _noop, timeout)
        self.emu.pump()

    def run_in_worker(self, script: Script, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        return self.sandbox.run_in_worker(script, fn, timeout)

    # ------------------------------------------------------------- traffic
    def feed(self, line: str) -> None:
        """A raw line from the IRC server (hooks run synchronously)."""
        self.emu.feed(line)
        self.emu.pump()

    def type(self, text: str, context: Optional[str] = None) -> None:
        """What the user types in a tab ('/cmd args' or a message)."""
        self.emu.type(text, context)
        self.emu.pump()

    def command(self, text: str) -> None:
        self.emu.command(text)
        self.emu.pump()

    def advance(self, ms: int) -> None:
        """Move the virtual clock; due timers fire and their callbacks finish.

        A second at a time, waiting for the workers (a round trip each) only
        after a second in which a timer fired: an idle hour is 3,600 cheap
        steps, not 3,600 round trips (``hexsandbox check`` plays one per script).
        """
        step = 0
        while step < ms:
            chunk = min(ms - step, 1000)
            if self.emu.advance(chunk):
                self.settle()
            else:
                self.emu.pump()
            step += chunk

    # ------------------------------------------------------------- reading
    def lines(self, context: Optional[str] = None, strip: bool = True) -> List[str]:
        """Printed lines of a tab (default: the front tab), as ``nick\ttext``;
        a line with an empty nick column (``prnt``) is just its text."""
        return [line[1:] if line.startswith("\t") else line
                for line in self.emu.lines(context, strip=strip)]

    @property
    def sent(self) -> List[str]:
        """Raw lines the server would have received."""
        return self.emu.sent

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0,
                 what: str = "condition") -> None:
        try:
            self.emu.run_until(predicate, timeout)
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}") from None

    def wait_for_line(self, text: str, context: Optional[str] = None,
                      timeout: float = 10.0) -> str:
        """Wait until a printed line in ``context`` contains ``text``; return it."""
        found: List[str] = []

        def seen() -> bool:
            found[:] = [line for line in self.lines(context) if text in line]
            return bool(found)

        self.wait_for(seen, timeout, f"a line containing {text!r}")
        return found[0]

    def close(self) -> None:
        self.sandbox.shutdown()
        if self._own_dir:
            import shutil

            shutil.rmtree(self.config_dir, ignore_errors=True)

    def __enter__(self) -> "EmulatedClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _noop() -> None:
    return None
