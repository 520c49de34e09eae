"""The local API inside HexChat: endpoint + allow-list + the sandbox.

:class:`RemoteService` is what the loader opens when hexsandbox.ini says

    [remote]
    enabled = yes            ; default no: nothing listens unless asked
    socket = /path/api.sock  ; default: paths.default_socket()

An admitted application becomes a :class:`~hexsandbox.sandbox.Script`
(``Sandbox.attach``): its calls are served, its hooks forwarded with the
script deadline, its faults reported exactly as a worker's. Everything here
that touches HexChat runs on the main thread (``backend.call_soon`` from the
endpoint thread).
"""

from __future__ import annotations

import os
import socket
from typing import Any, Dict, List, Optional

from ..backend import Backend
from ..rpc.session import SessionClosed
from ..sandbox import Sandbox, SandboxError, Script
from . import paths
from .allowlist import AllowList
from .endpoint import TIMED_OUT, Endpoint, EndpointError, Pending
from .peercred import Peer


class _NotOurs:
    """The ``process`` of an external app: none of ours. Its pid is None on
    purpose, so that nothing that signals a worker's process (or group)
    can ever reach the application's."""

    pid = None
    exitcode = None

    def join(self, timeout: Optional[float] = None) -> None:
        return None

    def is_alive(self) -> bool:
        return True  # as long as its connection is: the session says when it ends


class AppConnection:
    """Stands where a spawned worker's ``StartedWorker`` would (see
    ``Sandbox.attach``): the connection is all there is of the app."""

    sentinel = None
    stderr_path = ""

    def __init__(self, sock: socket.socket, peer: Peer) -> None:
        self.conn = sock
        self.peer = peer
        self.process = _NotOurs()

    @property
    def pid(self) -> int:
        """The application's pid (SO_PEERCRED), shown in /sandbox list."""
        return self.peer.pid

    def disconnect(self) -> None:
        """End the connection now. ``shutdown`` (not ``close``): the
        dispatcher still watches the descriptor and sees the end of stream;
        the sandbox closes it when it reaps the app."""
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class RemoteService:
    """Owns the endpoint; serves ``/sandbox allow|deny|apps`` (main thread)."""

    def __init__(self, sandbox: Sandbox, allowlist: AllowList, socket_path: str) -> None:
        self.sandbox = sandbox
        self.backend: Backend = sandbox.backend
        self.allowlist = allowlist
        self.socket_path = socket_path
        #: Names waiting for the user's answer (main thread's view).
        self.waiting: Dict[str, str] = {}
        self._told_uids: set = set()
        self.endpoint = Endpoint(socket_path, allowlist, on_admit=self._admitted_elsewhere,
                                 on_ask=self._ask_elsewhere, on_refused=self._refused_elsewhere)

    # ------------------------------------------------------------ commands
    def allow(self, name: str) -> str:
        if name not in self.waiting and name in self.allowlist.names("denied"):
            self.allowlist.forget(name)
            return f"hexsandbox: {name} is no longer denied; it will be asked about when it connects."
        if name not in self.waiting:
            raise SandboxError(f"no application called '{name}' is waiting. "
                               "/sandbox apps shows who is.")
        token = self.allowlist.allow(name)
        self.waiting.pop(name, None)
        self.endpoint.release(name, token)
        return f"hexsandbox: allowed application {name}."

    def deny(self, name: str) -> str:
        """Deny a waiting application, or revoke an allowed one (which
        disconnects it now)."""
        known = name in self.waiting or name in self.allowlist.names("allowed")
        connected = self.connected(name)
        if not known and not connected:
            raise SandboxError(f"no application called '{name}'. /sandbox apps shows them.")
        self.allowlist.deny(name)
        self.waiting.pop(name, None)
        self.endpoint.refuse(name)
        for script in connected:
            self.sandbox.unload(script)   # hooks off at once, quietly
            self.sandbox.kill(script)     # and the connection closed now
        tail = "; disconnected it" if connected else ""
        return f"hexsandbox: denied application {name}{tail}."

    def apps_lines(self) -> List[str]:
        rows = [("Application", "State", "PID", "Hooks")]
        shown = set()
        for script in self.sandbox.scripts:
            if script.external and not script.dead:
                rows.append((script.label, "connected", str(script.pid), str(len(script.backend_hooks))))
                shown.add(script.label)
        for name, where in sorted(self.waiting.items()):
            rows.append((name, "waiting", where, "-"))
        for name in self.allowlist.names("allowed"):
            if name not in shown:
                rows.append((name, "allowed", "-", "-"))
        for name in self.allowlist.names("denied"):
            rows.append((name, "denied", "-", "-"))
        if len(rows) == 1:
            return [f"hexsandbox: no applications yet; they connect to {self.socket_path}"]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        return lines + [f"hexsandbox: endpoint {self.socket_path}"]

    def connected(self, name: str) -> List[Script]:
        return [s for s in self.sandbox.scripts
                if s.external and not s.dead and s.path == f"app:{name}"]

    def close(self) -> None:
        self.endpoint.close()

    # ------------------------------------------- endpoint thread -> main thread
    def _admitted_elsewhere(self, pending: Pending, token: Optional[str]) -> None:
        self.backend.call_soon(lambda: self._admit(pending, token))

    def _ask_elsewhere(self, pending: Pending) -> None:
        cmdline = pending.cmdline
        self.backend.call_soon(lambda: self._ask(pending, cmdline))

    def _refused_elsewhere(self, peer: Peer, name: str, why: str) -> None:
        self.backend.call_soon(lambda: self._refused(peer, name, why))

    # --------------------------------------------------------- main thread
    def _admit(self, pending: Pending, token: Optional[str]) -> None:
        conn = AppConnection(pending.sock, pending.peer)
        script = self.sandbox.attach(pending.name, conn)
        assert script.session is not None and pending.hello_id is not None
        answer = {"name": pending.name, "context": self.backend.front_context(), "token": token}
        try:
            script.session.respond(pending.hello_id, None, answer)
        except SessionClosed:
            conn.disconnect()

    def _ask(self, pending: Pending, cmdline: str) -> None:
        first = pending.name not in self.waiting
        self.waiting[pending.name] = str(pending.peer.pid)
        if first:
            self._say(f"hexsandbox: application {pending.name} (pid {pending.peer.pid}: {cmdline}) "
                      f"asks to use HexChat. Type /sandbox allow {pending.name} or "
                      f"/sandbox deny {pending.name}.")

    def _refused(self, peer: Peer, name: str, why: str) -> None:
        if not name:  # another uid: once per uid, or a flood of them would flood the tab
            if peer.uid in self._told_uids:
                return
            self._told_uids.add(peer.uid)
            self._say(f"hexsandbox: refused a connection from uid {peer.uid} (pid {peer.pid}): {why}.")
            return
        if why == TIMED_OUT:
            self.waiting.pop(name, None)
        self._say(f"hexsandbox: refused application {name} (pid {peer.pid}): {why}.")


    def _say(self, text: str) -> None:
        """One line in the tab the user looks at (kept in ``sandbox.reports``)."""
        self.sandbox.report(_SERVICE, "remote", text)  # type: ignore[arg-type]


class _Label:
    """What ``Sandbox.report`` needs of a script: the name reports go under."""

    label = "remote"


_SERVICE = _Label()


def setting_enabled(parser: Any, problems: List[str]) -> bool:
    """``[remote] enabled`` of hexsandbox.ini (default no)."""
    if parser is None or not parser.has_section("remote"):
        return False
    try:
        return parser["remote"].getboolean("enabled", False)
    except ValueError:
        problems.append(f"hexsandbox.ini [remote]: enabled = {parser['remote'].get('enabled')!r} "
                        "is not yes or no; the local API stays closed.")
        return False


def open_in_hexchat(sandbox: Sandbox, config_dir: str, parser: Any) -> Optional[RemoteService]:
    """The loader's one call: the service if hexsandbox.ini enables it."""
    problems: List[str] = []
    enabled = setting_enabled(parser, problems)
    for problem in problems:
        sandbox.report(_SERVICE, "remote", f"hexsandbox: {problem}")  # type: ignore[arg-type]
    if not enabled:
        return None
    path = os.path.expanduser(parser["remote"].get("socket") or "") or paths.default_socket()
    allowlist = AllowList(os.path.join(config_dir, paths.ALLOWLIST_NAME))
    try:
        return RemoteService(sandbox, allowlist, path)
    except EndpointError as exc:
        sandbox.report(_SERVICE, "remote", f"hexsandbox: the local API is not open: {exc}.")  # type: ignore[arg-type]
        return None
