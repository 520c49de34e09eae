"""Private runtime directories (worker stderr files), and nothing left behind.

Each Sandbox makes one 0700 directory ``hexsandbox-run-*`` in the temporary
folder, with an ``owner`` file naming the process that made it (pid and the
kernel's start time of that pid, so a reused pid is not taken for the
owner). The Sandbox removes it at shutdown; a HexChat that was killed cannot,
so every new one first removes the directories whose owner is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Optional, Tuple

PREFIX = "hexsandbox-run-"
OWNER_FILE = "owner"


def _start_time(pid: int) -> Optional[str]:
    """Field 22 of /proc/PID/stat (start time in clock ticks), None if the
    process is gone or a zombie (a killed HexChat its parent has not reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _owner_alive(path: str) -> bool:
    try:
        with open(os.path.join(path, OWNER_FILE)) as f:
            pid_text, started = f.read().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return False
    return _start_time(pid) == started


def clean_stale(parent: Optional[str] = None) -> int:
    """Remove our runtime dirs whose owner process is gone; how many."""
    parent = parent or tempfile.gettempdir()
    removed = 0
    try:
        names = os.listdir(parent)
    except OSError:
        return 0
    uid = os.getuid()
    for name in names:
        if not name.startswith(PREFIX):
            continue
        path = os.path.join(parent, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if st.st_uid != uid or not os.path.isdir(path) or os.path.islink(path):
            continue
        if not os.path.exists(os.path.join(path, OWNER_FILE)):
            # Being created right now by another HexChat: leave it a minute.
            if time.time() - st.st_mtime < 60:
                continue
        elif _owner_alive(path):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def create(parent: Optional[str] = None) -> str:
    """Clean stale dirs, then make ours (0700) and record its owner."""
    clean_stale(parent)
    path = tempfile.mkdtemp(prefix=PREFIX, dir=parent)
    pid = os.getpid()
    # Written aside and renamed, so another HexChat never reads it half-written.
    partial = os.path.join(path, OWNER_FILE + ".partial")
    with open(partial, "w") as f:
        f.write(f"{pid} {_start_time(pid) or 0}\n")
    os.rename(partial, os.path.join(path, OWNER_FILE))
    return path


def stderr_file(runtime_dir: str, script_path: str) -> Tuple[int, str]:
    """A new private file for one worker's stderr: (fd, path)."""
    stem = os.path.splitext(os.path.basename(script_path))[0][:40] or "script"
    return tempfile.mkstemp(prefix=f"worker-{stem}-", suffix=".stderr", dir=runtime_dir)
