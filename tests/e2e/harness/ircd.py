"""A private ngircd on 127.0.0.1 for tests that need a real IRC server.

The configuration is generated into a throwaway directory: loopback only, a
free port, no PAM, no ident, no DNS lookups, no system include dir, long
nicks. When the tests run as root, ngircd runs as the unprivileged e2e user
(setpriv); otherwise as the current user.

Readiness is ngircd's own "Now listening on [127.0.0.1]:PORT" log line, read
from its stdout with a deadline (``-n`` keeps it in the foreground, logging
to the console). If the port was taken meanwhile (another xdist worker),
ngircd fails and we retry on a new port.

Note: ngircd throttles clients that send many lines quickly (it delays their
processing by about a second per command past a small burst). Tests that
need throughput or exact timing use the scripted server instead.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import tempfile
import time
from typing import List, Optional

from .irc_client import IrcUser
from .procs import (
    HarnessError,
    as_user,
    chown_tree,
    e2e_user,
    find_program,
    is_root,
    remove_tree,
    terminate_all,
    wait_pid_exit,
)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


CONF_TEMPLATE = """\
[Global]
Name = {name}
Info = hexsandbox e2e ngircd
Network = {network}
AdminInfo1 = hexsandbox e2e
AdminInfo2 = loopback only
AdminEMail = e2e@localhost
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = hexsandbox e2e ngircd
PidFile = {dir}/ngircd.pid
HelpFile = {dir}/help.txt
ServerUID = {uid}
ServerGID = {gid}

[Limits]
MaxConnections = 0
MaxConnectionsIP = 0
MaxJoins = 0
MaxNickLength = 30
MaxListSize = 1000
PingTimeout = 120
PongTimeout = 60
ConnectRetry = 60
IdleTimeout = 0

[Options]
DNS = no
Ident = no
PAM = no
IncludeDir = {dir}/conf.d
OperCanUseMode = yes
RequireAuthPing = no
ScrubCTCP = no
"""


class Ngircd:
    def __init__(self, name: str = "irc.ngircd.test", network: str = "NgircdNet",
                 start_timeout: float = 10.0):
        self.name = name
        self.network = network
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port: Optional[int] = None
        self.dir: Optional[str] = None
        self.proc: Optional[subprocess.Popen] = None
        self.log: List[str] = []
        self.clients: List[IrcUser] = []

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def start(self) -> "Ngircd":
        self.dir = tempfile.mkdtemp(prefix="hexsandbox-e2e-ngircd-", dir="/tmp")
        os.makedirs(os.path.join(self.dir, "conf.d"))
        with open(os.path.join(self.dir, "help.txt"), "w") as f:
            f.write("[help]\nhexsandbox e2e ngircd\n")
        if is_root():
            user = e2e_user()
            uid, gid = user.uid, user.gid
        else:
            uid, gid = os.getuid(), os.getgid()
        last_error = ""
        for _attempt in range(5):
            self.port = free_port()
            conf = os.path.join(self.dir, "ngircd.conf")
            with open(conf, "w") as f:
                f.write(CONF_TEMPLATE.format(name=self.name, network=self.network,
                                             port=self.port, dir=self.dir, uid=uid, gid=gid))
            if is_root():
                chown_tree(self.dir, uid, gid)
                os.chmod(self.dir, 0o700)
            argv = [find_program("ngircd") or "ngircd", "--nodaemon", "--passive", "--config", conf]
            if is_root():
                argv = as_user(argv)
            self.log = []
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.dir,
            )
            if self._wait_listening():
                return self
            last_error = "\n".join(self.log[-15:])
            self._kill()
        raise HarnessError(f"ngircd did not start:\n{last_error}")

    def _wait_listening(self) -> bool:
        """Read ngircd's log until it reports listening on our port."""
        want = f"Now listening on [127.0.0.1]:{self.port}"
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + self.start_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            r, _, _ = select.select([fd], [], [], remaining)
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                return False  # exited
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                text = line.decode(errors="replace")
                self.log.append(text)
                if want in text:
                    # From now on, drain its output in the background so a
                    # chatty ngircd never blocks on a full pipe.
                    self._start_drain()
                    return True

    def _start_drain(self) -> None:
        import threading

        def drain(f=self.proc.stdout, log=self.log):
            for line in iter(f.readline, b""):
                log.append(line.decode(errors="replace").rstrip("\n"))

        self._drain_thread = threading.Thread(target=drain, name="ngircd-log", daemon=True)
        self._drain_thread.start()

    def client(self, nick: str, **kw) -> IrcUser:
        """A connected IrcUser (closed at stop())."""
        u = IrcUser(self.host, self.port, nick, **kw).connect()
        self.clients.append(u)
        return u

    def _kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            terminate_all([self.proc.pid], grace=3.0)
        wait_pid_exit(self.proc.pid, 5.0, popen=self.proc)
        t = getattr(self, "_drain_thread", None)
        if t is not None:
            t.join(5.0)  # ends at EOF, i.e. once ngircd has exited
            self._drain_thread = None
        if self.proc.stdout is not None and (t is None or not t.is_alive()):
            self.proc.stdout.close()

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        self.clients = []
        self._kill()
        if self.dir:
            remove_tree(self.dir)
            self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
