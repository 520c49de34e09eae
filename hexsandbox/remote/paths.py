"""Where the endpoint's socket and the token files live, and how they are kept private.

Decisions (docs/remote.md):

* the socket is ``$XDG_RUNTIME_DIR/hexsandbox/api.sock`` when
  ``XDG_RUNTIME_DIR`` is set (systemd makes it 0700 and per user), else
  ``/tmp/hexsandbox-<uid>/api.sock``; either directory is made 0700 and
  refused if it exists with another owner, other modes or as a symlink
  (so another user cannot squat it in /tmp);
* the allow-list (hashes of the tokens HexChat issued) is
  ``<HexChat configdir>/hexsandbox-apps.json``, mode 0600;
* an application keeps the token it was given in
  ``$XDG_CONFIG_HOME/hexsandbox/tokens.json`` (0600, in a 0700 directory),
  keyed by socket path and application name; ``HEXSANDBOX_TOKENS`` names
  another file.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Dict, Optional

SOCKET_NAME = "api.sock"
ALLOWLIST_NAME = "hexsandbox-apps.json"
TOKENS_ENV = "HEXSANDBOX_TOKENS"
#: Overrides the default socket path for every client verb (tests, scripts).
SOCKET_ENV = "HEXSANDBOX_SOCKET"


class UnsafePath(RuntimeError):
    """A directory or file that is not private to this user."""


def socket_dir() -> str:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return os.path.join(runtime, "hexsandbox")
    return f"/tmp/hexsandbox-{os.getuid()}"


def default_socket() -> str:
    """The endpoint HexChat opens (``HEXSANDBOX_SOCKET`` overrides it)."""
    return os.environ.get(SOCKET_ENV) or os.path.join(socket_dir(), SOCKET_NAME)


def private_dir(path: str) -> str:
    """Make ``path`` a 0700 directory of ours, or raise UnsafePath."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{path} is not a directory")
    if st.st_uid != os.getuid():
        raise UnsafePath(f"{path} belongs to uid {st.st_uid}, not to you")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours: tighten it rather than refuse
    return path


def write_private(path: str, data: bytes) -> None:
    """Replace ``path`` atomically with a 0600 file holding ``data``."""
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_json(path: str) -> Dict:
    """A JSON object from ``path``; {} if it is missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def tokens_file() -> str:
    override = os.environ.get(TOKENS_ENV)
    if override:
        return override
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "hexsandbox", "tokens.json")


def load_token(socket_path: str, name: str) -> Optional[str]:
    entry = read_json(tokens_file()).get(os.path.abspath(socket_path), {})
    token = entry.get(name) if isinstance(entry, dict) else None
    return token if isinstance(token, str) else None


def save_token(socket_path: str, name: str, token: Optional[str]) -> None:
    """Remember (or, with None, forget) the token of ``name`` for this endpoint."""
    path = tokens_file()
    folder = os.path.dirname(path)
    os.makedirs(os.path.dirname(folder) or ".", exist_ok=True)
    private_dir(folder)
    data = read_json(path)
    entry = data.setdefault(os.path.abspath(socket_path), {})
    if token is None:
        entry.pop(name, None)
    else:
        entry[name] = token
    write_private(path, json.dumps(data, indent=1, sort_keys=True).encode())
