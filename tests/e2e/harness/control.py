"""Test-side client of the in-HexChat control channel (addon/zz_e2e_control.py).

JSON lines over a unix socket; one request at a time per connection; every
call has a deadline (socket timeout), so a hung HexChat fails the test
instead of hanging it.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import threading
import time
from typing import Any, Dict, List, Optional

ADDON_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "addon", "zz_e2e_control.py")
ADDON_NAME = "zz_e2e_control.py"


class RemoteError(RuntimeError):
    """An exception raised inside HexChat while serving a request."""

    def __init__(self, message: str, remote_traceback: str = ""):
        super().__init__(message + ("\n--- inside HexChat ---\n" + remote_traceback if remote_traceback else ""))
        self.remote_traceback = remote_traceback


class ControlClient:
    def __init__(self, path: str, timeout: float = 10.0):
        self.path = path
        self.timeout = timeout
        self._sock: Optional[socket.socket] = None
        self._buf = b""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def connect(self, deadline: float, alive=lambda: True) -> "ControlClient":
        """Connect, retrying until ``deadline`` while the socket does not
        exist yet (HexChat still starting). ``alive()`` returning False
        aborts early (HexChat died). Retrying a connect() on a deadline is the
        event we have here: the socket appears when the addon has loaded."""
        last: Optional[BaseException] = None
        delay = 0.005
        while True:
            if not alive():
                raise ConnectionError(f"HexChat exited before its control socket answered ({last!r})")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                s.connect(self.path)
                self._sock = s
                return self
            except (FileNotFoundError, ConnectionRefusedError, socket.timeout) as e:
                s.close()
                last = e
            if time.monotonic() >= deadline:
                raise TimeoutError(f"control socket {self.path} not connectable: {last!r}")
            time.sleep(delay)  # bounded back-off while the socket does not exist
            delay = min(delay * 2, 0.1)

    def wait_eof(self, timeout: float) -> bool:
        """Wait until HexChat closes the connection (the addon's unload hook
        does, when HexChat exits). True if it did within ``timeout``."""
        if self._sock is None:
            return False
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(1 << 16)
            except socket.timeout:
                return False
            except OSError:
                return True
            if not chunk:
                return True

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def request(self, op: str, timeout: Optional[float] = None, **fields) -> Any:
        if self._sock is None:
            raise ConnectionError("control channel is not connected")
        timeout = self.timeout if timeout is None else timeout
        with self._lock:
            rid = next(self._ids)
            msg = dict(fields, op=op, id=rid)
            deadline = time.monotonic() + timeout
            self._sock.settimeout(timeout)
            self._sock.sendall(json.dumps(msg).encode() + b"\n")
            while b"\n" not in self._buf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"HexChat did not answer {op!r} within {timeout}s")
                self._sock.settimeout(remaining)
                try:
                    chunk = self._sock.recv(1 << 20)
                except socket.timeout:
                    raise TimeoutError(f"HexChat did not answer {op!r} within {timeout}s") from None
                if not chunk:
                    raise ConnectionError(f"control channel closed while waiting for {op!r}")
                self._buf += chunk
            line, self._buf = self._buf.split(b"\n", 1)
        reply = json.loads(line)
        if reply.get("id") != rid:
            raise RuntimeError(f"control reply out of order: {reply!r}")
        if not reply.get("ok"):
            raise RemoteError(reply.get("error", "unknown error"), reply.get("traceback", ""))
        return reply.get("result")

    # ----------------------------------------------------------- shortcuts

    def ping(self, timeout: Optional[float] = None) -> Dict[str, Any]:
        return self.request("ping", timeout)

    def command(self, text: str, context: Optional[Dict[str, str]] = None) -> None:
        self.request("command", text=text, context=context)

    def prnt(self, text: str, context: Optional[Dict[str, str]] = None) -> None:
        self.request("prnt", text=text, context=context)

    def eval(self, code: str, timeout: Optional[float] = None) -> Any:
        return self.request("eval", timeout, code=code)

    def get_info(self, name: str, context: Optional[Dict[str, str]] = None) -> Any:
        return self.request("get_info", name=name, context=context)

    def contexts(self) -> List[Dict[str, Any]]:
        return self.request("contexts")

    def transcript(self, noise: bool = False) -> Dict[str, List[str]]:
        return self.request("transcript", noise=noise)

    def expect_print(self, event: str, contains: Optional[str] = None,
                     channel: Optional[str] = None) -> int:
        return self.request("expect_print", event=event, contains=contains, channel=channel)

    def wait_expect(self, eid: int, timeout: float = 10.0) -> Dict[str, Any]:
        return self.request("wait_expect", timeout + 5.0, eid=eid, wait=timeout)

    def wait_context(self, channel: str, server: Optional[str] = None, timeout: float = 10.0) -> None:
        self.request("wait_context", timeout + 5.0, channel=channel, server=server, wait=timeout)
