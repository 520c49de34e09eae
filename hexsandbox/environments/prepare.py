"""From a script to the Python its worker runs: the one place that decides.

:func:`quick` answers without starting a process (the warm path: a script
without metadata, or one whose environment is cached). :func:`slow` does what
may take seconds (probe the interpreter, build the environment); callers run
it in a thread inside HexChat, or directly in tools. :func:`python_for` is both
in a row, for the test fixture and ``hexsandbox check``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

from . import cache
from .build import Build, BuildError, Installer, probe_base
from .metadata import MetadataError, Needs, python_satisfies, read_needs


@dataclass
class Ready:
    """What to load the script with."""

    python: Optional[str]                 # for Sandbox.load (None: the sandbox's default)
    env: Optional[str] = None             # the environment folder, if any
    marker: Dict[str, Any] = field(default_factory=dict)
    built: bool = False                   # built just now (False: reused, or none needed)
    seconds: float = 0.0


# Interpreters already probed in this process: path -> (stat identity, probe answer).
_PROBED: Dict[str, Tuple[Tuple[int, int], Dict[str, Any]]] = {}
_PROBED_LOCK = threading.Lock()


def forget_probes() -> None:
    """Forget what was probed (tools and tests that start "as a fresh HexChat")."""
    with _PROBED_LOCK:
        _PROBED.clear()


def _identity(python: str) -> Tuple[int, int]:
    st = os.stat(os.path.realpath(python))
    return st.st_ino, st.st_mtime_ns


#: This process's own interpreter, resolved once (it cannot change under us).
_OWN_PYTHON = os.path.realpath(sys.executable)


def known_version(python: str) -> Optional[Tuple[int, ...]]:
    """The interpreter's version if known without running it: the same binary
    as this process, or probed earlier in this process."""
    try:
        if python == sys.executable or os.path.realpath(python) == _OWN_PYTHON:
            return tuple(sys.version_info[:3])
        with _PROBED_LOCK:
            seen = _PROBED.get(python)
        if seen is not None and seen[0] == _identity(python):
            return tuple(seen[1]["version"])
    except OSError:
        return None
    return None


def probed(python: str) -> Optional[Dict[str, Any]]:
    with _PROBED_LOCK:
        seen = _PROBED.get(python)
    try:
        return seen[1] if seen is not None and seen[0] == _identity(python) else None
    except OSError:
        return None


def probe(python: str) -> Dict[str, Any]:
    """Probe (once per process and binary) whether ``python`` can run the
    worker; raises BuildError with a clear line when it cannot."""
    answer = probed(python)
    if answer is None:
        answer = probe_base(python)
        with _PROBED_LOCK:
            _PROBED[python] = (_identity(python), answer)
    return answer


def _check_requires_python(needs: Needs, python: str, version: Tuple[int, ...]) -> None:
    if needs.requires_python and not python_satisfies(version, needs.requires_python):
        have = ".".join(str(v) for v in version)
        raise MetadataError(f"it requires Python {needs.requires_python}, but {python} is {have}")


def quick(needs: Needs, base: str, explicit: Optional[str], root: Optional[str] = None,
          verify: bool = False) -> Optional[Ready]:
    """A :class:`Ready` if no process has to run, else None. ``verify``: the
    interpreter was chosen for this script ([script:NAME] python), so it is
    probed once before a worker is started with it."""
    if verify and probed(base) is None:
        return None
    version = known_version(base)
    if not needs.requirements:
        if needs.requires_python:
            if version is None:
                return None
            _check_requires_python(needs, base, version)
        return Ready(explicit)
    if version is None:
        return None
    _check_requires_python(needs, base, version)
    found = cache.lookup(cache.make_key(base, version, needs.requirements), root)
    if found is None:
        return None
    return Ready(cache.env_python(found[0]), found[0], found[1])


def slow(needs: Needs, base: str, explicit: Optional[str], root: Optional[str] = None,
         installer: Optional[Installer] = None,
         started: Optional[Callable[[Build], None]] = None) -> Ready:
    """Probe ``base``, then reuse or build the environment (blocking).
    ``started`` receives the :class:`Build` (to cancel it) before it runs."""
    begun = time.monotonic()
    answer = probe(base)
    version = tuple(answer["version"])
    _check_requires_python(needs, base, version)
    if not needs.requirements:
        return Ready(explicit)
    key = cache.make_key(base, version, needs.requirements)
    found = cache.lookup(key, root)
    if found is not None:
        return Ready(cache.env_python(found[0]), found[0], found[1])
    build = Build(key, root, installer, runtime=answer["links"])
    if started is not None:
        started(build)
    built = build.run()
    return Ready(cache.env_python(built.path), built.path, built.marker, built.built,
                 time.monotonic() - begun)


def python_for(path: str, python: Optional[str], ini_dependencies: Optional[str] = None,
               root: Optional[str] = None) -> Optional[str]:
    """The Python to load ``path`` with, building its environment if needed
    (blocking). None: the sandbox's default. Raises MetadataError or
    BuildError (one line each)."""
    from ..spawning import default_python

    needs = read_needs(path, ini_dependencies)
    base = python or default_python()
    verify = python is not None
    ready = quick(needs, base, python, root, verify) or slow(needs, base, python, root)
    return ready.python


def python_for_script(path: str, python: Optional[str], config_dir: str) -> Optional[str]:
    """:func:`python_for` with ``[script:NAME] dependencies`` from the
    config dir's hexsandbox.ini; a failure is a SandboxError (one line)."""
    from ..client import SandboxError
    from ..config import load_settings

    try:
        ini = load_settings(config_dir).script_option(path, "dependencies")
        return python_for(path, python, ini)
    except (BuildError, MetadataError, OSError) as exc:
        raise SandboxError(f"{os.path.basename(path)} not loaded: {exc}") from None


__all__ = ["python_for_script", "Ready", "quick", "slow", "python_for", "probe", "known_version",
           "BuildError", "MetadataError"]
