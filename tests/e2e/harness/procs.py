"""Process helpers: privilege switching, /proc scans, bounded waits and kills.

Everything here is Linux-only (the e2e suite runs on Debian 12).

Two privilege modes are supported:

* the test process is root (CI): commands that must run as the unprivileged
  user are wrapped in ``setpriv --reuid/--regid/--init-groups`` (which execs,
  so the PID we start *is* the target program's PID);
* the test process is a normal user with passwordless sudo: the same
  ``setpriv`` command line is prefixed with ``sudo -n``; root-only helpers
  (chown, kill of the other user's processes, rm of its files) also go
  through ``sudo -n``.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Sequence

E2E_USER_ENV = "HEXSANDBOX_E2E_USER"
DEFAULT_E2E_USER = "hexsandbox-e2e"


class HarnessError(RuntimeError):
    """The harness could not set something up (a setup problem, not a test failure)."""


def is_root() -> bool:
    return os.geteuid() == 0


def e2e_user_name() -> str:
    return os.environ.get(E2E_USER_ENV, DEFAULT_E2E_USER)


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: int
    gid: int
    home: str


def e2e_user() -> UserInfo:
    name = e2e_user_name()
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        raise HarnessError(
            f"user {name!r} does not exist: run scripts/setup-system.sh first"
        ) from None
    return UserInfo(name, pw.pw_uid, pw.pw_gid, pw.pw_dir)


def find_program(name: str) -> Optional[str]:
    """shutil.which, also looking in the sbin dirs a normal user's PATH lacks."""
    found = shutil.which(name)
    if found:
        return found
    for d in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def root_prefix() -> List[str]:
    """argv prefix that runs a command as root ([] when we are root)."""
    if is_root():
        return []
    if shutil.which("sudo") is None:
        raise HarnessError("not root and sudo is not installed")
    return ["sudo", "-n", "--"]


def as_root(argv: Sequence[str]) -> List[str]:
    return root_prefix() + list(argv)


def as_user(argv: Sequence[str], user: Optional[UserInfo] = None) -> List[str]:
    """argv that runs ``argv`` as the unprivileged e2e user (setpriv execs)."""
    user = user or e2e_user()
    return as_root(
        [
            "setpriv",
            f"--reuid={user.uid}",
            f"--regid={user.gid}",
            "--init-groups",
            "--",
            *argv,
        ]
    )


def run_root(argv: Sequence[str], timeout: float = 20.0) -> None:
    """Run a short helper command as root; raise with its output on failure."""
    cp = subprocess.run(
        as_root(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=timeout,
    )
    if cp.returncode != 0:
        raise HarnessError(
            f"{' '.join(argv)} failed ({cp.returncode}): {cp.stdout.decode(errors='replace')}"
        )


# ---------------------------------------------------------------- /proc scans


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    comm: str

    def cmdline(self) -> str:
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                raw = f.read()
        except OSError:
            return f"[{self.comm}]"
        return raw.replace(b"\0", b" ").decode(errors="replace").strip() or f"[{self.comm}]"

    def exiting(self) -> bool:
        """Whether it is in its exit path: its memory is already released
        (an empty cmdline; a user process has one until then) but it is not
        a zombie yet. A process SIGKILLed by its parent's death (the zygote
        and workers: PR_SET_PDEATHSIG) is in this state for a moment right
        after the parent is gone, longer on a loaded machine."""
        try:
            with open(f"/proc/{self.pid}/cmdline", "rb") as f:
                return f.read() == b"" and self.state not in ("Z", "X")
        except OSError:
            return False


def proc_info(pid: int) -> Optional[ProcInfo]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    # comm may contain spaces and parentheses: split on the last ')'
    lpar, rpar = data.index("("), data.rindex(")")
    comm = data[lpar + 1 : rpar]
    fields = data[rpar + 2 :].split()
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        state=fields[0],
        comm=comm,
    )


def all_procs() -> List[ProcInfo]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = proc_info(int(name))
            if info is not None:
                out.append(info)
    return out


def is_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    info = proc_info(pid)
    return info is not None and info.state not in ("Z", "X")


def descendants(pid: int, procs: Optional[List[ProcInfo]] = None) -> List[ProcInfo]:
    procs = all_procs() if procs is None else procs
    children = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    out, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child.pid)
    return out


def related_procs(
    root_pid: int,
    sid: Optional[int] = None,
    pgid: Optional[int] = None,
    known: Iterable[int] = (),
) -> List[ProcInfo]:
    """Live processes tied to ``root_pid``: its descendants, members of its
    session / process group (orphans reparented to init keep those), and any
    PIDs seen earlier (``known``). Zombies are left out. Excludes root_pid."""
    procs = all_procs()
    found = {p.pid: p for p in descendants(root_pid, procs)}
    for p in procs:
        if (sid is not None and p.sid == sid) or (pgid is not None and p.pgid == pgid):
            found[p.pid] = p
    by_pid = {p.pid: p for p in procs}
    for pid in known:
        if pid in by_pid:
            found[pid] = by_pid[pid]
    found.pop(root_pid, None)
    found.pop(os.getpid(), None)
    return sorted(
        (p for p in found.values() if p.state not in ("Z", "X")), key=lambda p: p.pid
    )


def _established_tcp_rows() -> Iterator[List[str]]:
    """The fields of every ESTABLISHED (state 01) row of /proc/net/tcp{,6}:
    [2] remote address:port (hex), [7] uid, [9] socket inode."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) > 9 and parts[3] == "01":
                        yield parts
        except OSError:
            pass


def established_tcp(pid: int) -> Optional[int]:
    """Number of ESTABLISHED TCP sockets of ``pid``; None if we may not look
    (another user's fds without root)."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return None
    return sum(1 for parts in _established_tcp_rows() if parts[9] in inodes)


def established_tcp_of_uid(uid: int, remote_port: int) -> int:
    """ESTABLISHED TCP sockets owned by ``uid`` whose remote port is
    ``remote_port`` (readable without privileges, unlike another user's fds)."""
    return sum(1 for parts in _established_tcp_rows()
               if parts[7] == str(uid) and int(parts[2].rsplit(":", 1)[1], 16) == remote_port)


def wchan(pid: int) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return None


# ------------------------------------------------------------- waits, kills


def wait_pid_exit(pid: int, timeout: float, popen: Optional[subprocess.Popen] = None) -> bool:
    """Wait until ``pid`` has exited (or is a zombie), at most ``timeout`` s.

    Uses a pidfd (readable when the process exits), so this is an event wait,
    not polling. Our own children are reaped through ``popen``."""
    deadline = time.monotonic() + timeout
    if popen is not None and popen.pid == pid:
        try:
            popen.wait(timeout=max(0.0, timeout))
            return True
        except subprocess.TimeoutExpired:
            return False
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    except OSError:
        fd = None
    if fd is not None:
        try:
            while True:
                remaining = deadline - time.monotonic()
                if not is_alive(pid):
                    return True
                if remaining <= 0:
                    return False
                r, _, _ = select.select([fd], [], [], remaining)
                if r:
                    return True
        finally:
            os.close(fd)
    # No pidfd support: bounded polling is the only option left.
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.02)
    return not is_alive(pid)


def send_signal(pids: Iterable[int], sig: int) -> None:
    pids = [p for p in pids if p > 1]
    if not pids:
        return
    try:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
    except PermissionError:
        # Another user's processes while we are not root: go through sudo.
        subprocess.run(
            as_root(["kill", f"-{int(sig)}", *[str(p) for p in pids]]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
        )


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    if pgid <= 1:
        return
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        subprocess.run(
            as_root(["kill", f"-{int(sig)}", "--", f"-{pgid}"]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=20,
        )


def terminate_all(pids: Sequence[int], grace: float = 2.0) -> List[int]:
    """SIGTERM, wait up to ``grace`` s, then SIGKILL. Returns PIDs that are
    still alive afterwards (should be none)."""
    pids = [p for p in pids if is_alive(p)]
    if not pids:
        return []
    send_signal(pids, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for pid in pids:
        wait_pid_exit(pid, max(0.0, deadline - time.monotonic()))
    rest = [p for p in pids if is_alive(p)]
    if rest:
        send_signal(rest, signal.SIGKILL)
        for pid in rest:
            wait_pid_exit(pid, 5.0)
    return [p for p in pids if is_alive(p)]


def remove_tree(path: str) -> None:
    """rm -rf ``path``; through sudo when files belong to the e2e user."""
    if not os.path.lexists(path):
        return
    try:
        shutil.rmtree(path)
        return
    except PermissionError:
        if is_root():
            raise
    except FileNotFoundError:
        return
    run_root(["rm", "-rf", "--", path])


def chown_tree(path: str, uid: int, gid: int) -> None:
    if is_root():
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, uid, gid)
            for n in filenames:
                os.chown(os.path.join(dirpath, n), uid, gid, follow_symlinks=False)
    else:
        run_root(["chown", "-R", f"{uid}:{gid}", "--", path])


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def errno_name(e: OSError) -> str:
    return errno.errorcode.get(e.errno or 0, str(e.errno))
