"""Where environments live, what names them, and how a finished one is known.

An environment is ``<cache>/hexsandbox/envs/<digest>/``, ``<cache>`` being
``$XDG_CACHE_HOME`` (default ``~/.cache``) of the user running HexChat. The
digest is a hash of the *key*: the base interpreter's path, its version and
the normalised, sorted requirement set. Scripts with the same set on the same
Python share one environment; a changed set is another key, so another
environment (the old one stays until the cache is cleared; see README).

An environment is built under a temporary name in the same folder and renamed
into place only when complete, with its marker file (``hexsandbox-env.json``)
already inside. So a directory at the final name always holds a complete
environment, and the marker says what it holds. Looking one up is a few stats
and one small JSON read: no subprocess (the warm path, see docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple

MARKER = "hexsandbox-env.json"
#: The folder in an environment holding links to hexsandbox's own runtime.
RUNTIME_DIR = "hexsandbox-runtime"
#: Temporary builds are named with this prefix; never used, removed when stale.
BUILDING_PREFIX = ".building-"
#: Bump when the layout changes: older environments are then rebuilt.
FORMAT = 1


def cache_root() -> str:
    """``$XDG_CACHE_HOME/hexsandbox/envs`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "hexsandbox", "envs")


@dataclass(frozen=True)
class EnvKey:
    """What an environment is built from."""

    python: str                     # the base interpreter, as the script would run it
    version: Tuple[int, ...]        # its version (major, minor, micro)
    requirements: Tuple[str, ...]   # normalised and sorted (metadata.Needs.requirements)

    def as_data(self) -> Dict[str, Any]:
        return {"format": FORMAT, "python": self.python, "version": list(self.version),
                "requirements": list(self.requirements)}

    @property
    def digest(self) -> str:
        text = json.dumps(self.as_data(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def make_key(python: str, version: Sequence[int], requirements: Sequence[str]) -> EnvKey:
    return EnvKey(os.path.abspath(python), tuple(version[:3]), tuple(sorted(set(requirements))))


def env_dir(key: EnvKey, root: Optional[str] = None) -> str:
    return os.path.join(root or cache_root(), key.digest)


def env_python(path: str) -> str:
    """The environment's interpreter (what the worker runs)."""
    return os.path.join(path, "bin", "python")


def read_marker(path: str) -> Optional[Dict[str, Any]]:
    """The marker of the environment at ``path``, or None if it has none
    (or an unreadable one: then it is treated as absent and rebuilt)."""
    try:
        with open(os.path.join(path, MARKER), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(path: str, data: Dict[str, Any]) -> None:
    with open(os.path.join(path, MARKER), "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def usable(path: str, key: EnvKey) -> Optional[Dict[str, Any]]:
    """The marker, if ``path`` is a complete environment for ``key`` whose
    links to hexsandbox's runtime still resolve (a moved or removed
    hexsandbox install makes it stale)."""
    marker = read_marker(path)
    if marker is None or marker.get("key") != key.as_data():
        return None
    if not os.path.exists(env_python(path)):
        return None
    links = marker.get("runtime")
    if not isinstance(links, dict):
        return None
    runtime = os.path.join(path, RUNTIME_DIR)
    if not all(os.path.exists(os.path.join(runtime, name)) for name in links):
        return None
    return marker


def lookup(key: EnvKey, root: Optional[str] = None) -> Optional[Tuple[str, Dict[str, Any]]]:
    """(path, marker) of a complete environment for ``key``, else None."""
    path = env_dir(key, root)
    marker = usable(path, key)
    return (path, marker) if marker is not None else None
