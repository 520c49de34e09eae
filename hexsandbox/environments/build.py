"""Building one environment: a venv from the base interpreter, the declared
packages installed by ``uv`` (or ``pip``), hexsandbox's runtime linked in.

Blocking and slow (seconds, network): callers run it off HexChat's main thread
(:mod:`hexsandbox.environments.service`) or where blocking is what they want
(the test fixture, ``hexsandbox check``).

Steps, all inside a temporary ``.building-*`` folder next to the final one:

1. ``uv venv`` / ``python -m venv --without-pip`` from the base interpreter;
2. ``uv pip install`` / ``pip --python ENV install`` of exactly the requirements
   (after ``--``, so nothing from a script can pass for an option);
3. ``hexsandbox-runtime/`` gets one symlink per top-level module of hexsandbox's
   worker and its dependencies, taken from where the *base* interpreter
   imports them (:mod:`.probe`), and a ``.pth`` file in site-packages puts
   that folder first on ``sys.path``. The worker imports; the script sees its
   own packages and those few, nothing else of the base (no
   ``--system-site-packages``);
4. the environment's Python imports the worker (``probe env``) and lists what
   was installed; that goes into the marker;
5. rename into place. If another build of the same key won the race, its
   environment is used and this one discarded.

Any failure removes the temporary folder, so a half-built environment is
never used (and a build killed with HexChat is swept by a later build).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import cache
from .probe import BOOTSTRAP

#: A build that takes longer is stopped (no network can mean long retries).
BUILD_TIMEOUT_S = 300.0
#: Lines of an installer's error shown to the user.
ERROR_TAIL_LINES = 3
#: ``HEXSANDBOX_INSTALLER`` = uv | pip | auto (default: uv when found).
INSTALLER_ENV = "HEXSANDBOX_INSTALLER"
_PTH_NAME = "_hexsandbox_runtime.pth"
#: Executed by site at interpreter start: the runtime folder goes first, so a
#: script's own (say) dill cannot replace the one the worker was tested with.
_PTH_LINE = ("import os, sys; sys.path.insert(0, os.path.join(sys.prefix, "
             f"{cache.RUNTIME_DIR!r}))\n")


class BuildError(Exception):
    """An environment could not be built; ``str()`` is one line for the user:
    ``<step> failed: <detail>`` (``detail`` alone is the installer's words)."""

    def __init__(self, message: str, step: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.step, self.detail = step, detail or message


@dataclass
class Built:
    path: str
    marker: Dict[str, Any]
    built: bool        # False: another build of the same key was there first


@dataclass(frozen=True)
class Installer:
    name: str                 # "uv" or "pip"
    uv: Optional[str] = None  # the uv binary


def find_uv(base_python: str) -> Optional[str]:
    """uv next to the base interpreter (``pip install uv`` in the venv the
    worker runs from), then the ``uv`` package of this Python, then PATH."""
    beside = os.path.join(os.path.dirname(base_python), "uv")
    if os.access(beside, os.X_OK):
        return beside
    try:
        import uv  # type: ignore[import-not-found]

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    return shutil.which("uv")


def choose_installer(base_python: str) -> Installer:
    wanted = (os.environ.get(INSTALLER_ENV) or "auto").strip().lower()
    uv = find_uv(base_python) if wanted in ("auto", "uv") else None
    if wanted == "uv" and uv is None:
        raise BuildError(f"{INSTALLER_ENV}=uv but no uv was found (pip install uv)")
    return Installer("uv", uv) if uv else Installer("pip")


class _Runner:
    """Runs the build's commands; :meth:`cancel` stops the current one (HexChat quits)."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.cancelled = False
        self._lock = threading.Lock()
        self._proc: Optional[subprocess.Popen] = None

    def run(self, argv: Sequence[str], what: str) -> str:
        env = dict(os.environ, NO_COLOR="1", COLUMNS="1000", UV_PYTHON_DOWNLOADS="never",
                   PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
        env.pop("PYTHONPATH", None)  # the environment's Python must not see ours
        # uv trusts its own bundled roots unless told otherwise; pip (and every
        # other tool here) trusts the system's store: so does uv, then.
        env.setdefault("UV_NATIVE_TLS", "1")
        with self._lock:
            if self.cancelled:
                raise BuildError("cancelled")
            self._proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd="/", env=env, start_new_session=True)
        try:
            out, err = self._proc.communicate(timeout=max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._kill()
            self._proc.communicate()
            raise BuildError(f"{what} took longer than {BUILD_TIMEOUT_S:.0f} s and was stopped") from None
        code = self._proc.returncode
        if self.cancelled:
            raise BuildError("cancelled")
        text_out = out.decode("utf-8", "replace")
        if code != 0:
            detail = error_tail(err.decode("utf-8", "replace") or text_out)
            raise BuildError(f"{what} failed: {detail}", what, detail)
        return text_out

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._kill()


_NOISE = ("Using Python", "Resolved", "Prepared", "Audited", "WARNING:", "[notice]")


def error_tail(text: str, lines: int = ERROR_TAIL_LINES, width: int = 400) -> str:
    """The last meaningful lines of an installer's output, on one line. A
    more indented line continues the one before (uv wraps long messages)."""
    keep: List[str] = []
    indents: List[int] = []
    for raw in text.splitlines():
        line = raw.strip().strip("│╰─▶×").strip()
        if not line or line.startswith(_NOISE):
            continue
        indent = len(raw) - len(raw.lstrip())
        if keep and indent > indents[-1] and indents[-1] > 0:
            keep[-1] += " " + line
            continue
        keep.append(line)
        indents.append(indent)
    tail = " | ".join(keep[-lines:]) or "no output"
    return tail if len(tail) <= width else "..." + tail[-width:]


def _probe(runner: _Runner, python: str, mode: str) -> Dict[str, Any]:
    out = runner.run([python, "-c", BOOTSTRAP, mode], f"{python}")
    try:
        data = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BuildError(f"{python} did not answer hexsandbox's probe") from None
    if not isinstance(data, dict):
        raise BuildError(f"{python} did not answer hexsandbox's probe")
    if not data.get("ok"):
        raise BuildError(f"{python} {data.get('error', 'cannot run the worker')}")
    return data


def probe_base(python: str, deadline: Optional[float] = None) -> Dict[str, Any]:
    """Version and runtime links of a base interpreter (raises BuildError
    with a clear line when it cannot run the worker)."""
    if not os.access(python, os.X_OK):
        raise BuildError(f"{python} is not an executable Python")
    return _probe(_Runner(deadline or time.monotonic() + 60), python, "base")


def _pip_command(runner: _Runner, base: str, target: str) -> Tuple[List[str], str]:
    """A pip that installs into ``target``, and its version: the base's or
    this Python's (``pip --python``, pip >= 22.3), else pip put into the
    environment by ensurepip."""
    for candidate in dict.fromkeys([base, sys.executable]):
        try:
            version = runner.run([candidate, "-c", "import pip; print(pip.__version__)"],
                                 "looking for pip").strip()
        except BuildError:
            continue
        return [candidate, "-m", "pip", "--python", target], f"pip {version}"
    runner.run([target, "-m", "ensurepip", "--default-pip"], "ensurepip")
    version = runner.run([target, "-c", "import pip; print(pip.__version__)"], "pip").strip()
    return [target, "-m", "pip"], f"pip {version}"


def _link_runtime(path: str, links: Dict[str, str]) -> None:
    runtime = os.path.join(path, cache.RUNTIME_DIR)
    os.makedirs(runtime)
    for name, target in links.items():
        os.symlink(target, os.path.join(runtime, name))
    sites = glob.glob(os.path.join(path, "lib", "python*", "site-packages"))
    if len(sites) != 1:
        raise BuildError(f"unexpected environment layout in {path}")
    with open(os.path.join(sites[0], _PTH_NAME), "w", encoding="utf-8") as f:
        f.write(_PTH_LINE)


def sweep_stale(root: str, older_than_s: float = 2 * BUILD_TIMEOUT_S) -> None:
    """Remove temporary builds left by a process that died mid-build."""
    now = time.time()
    for leftover in glob.glob(os.path.join(root, cache.BUILDING_PREFIX + "*")):
        try:
            if now - os.path.getmtime(leftover) > older_than_s:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass


class Build:
    """One build of one key; :meth:`run` blocks, :meth:`cancel` may be called
    from another thread."""

    def __init__(self, key: cache.EnvKey, root: Optional[str] = None,
                 installer: Optional[Installer] = None,
                 runtime: Optional[Dict[str, str]] = None) -> None:
        self.key = key
        self.root = root or cache.cache_root()
        self.installer = installer
        self.runtime = runtime
        self._runner = _Runner(time.monotonic() + BUILD_TIMEOUT_S)

    def cancel(self) -> None:
        self._runner.cancel()

    def run(self) -> Built:
        started = time.monotonic()
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        sweep_stale(self.root)
        final = cache.env_dir(self.key, self.root)
        tmp = tempfile.mkdtemp(prefix=f"{cache.BUILDING_PREFIX}{self.key.digest}-", dir=self.root)
        try:
            marker = self._build_into(tmp, started)
            return self._move_into_place(tmp, final, marker)
        finally:
            if os.path.isdir(tmp):
                shutil.rmtree(tmp, ignore_errors=True)

    def _build_into(self, tmp: str, started: float) -> Dict[str, Any]:
        run, base = self._runner.run, self.key.python
        installer = self.installer or choose_installer(base)
        links = self.runtime if self.runtime is not None else _probe(self._runner, base, "base")["links"]
        target = cache.env_python(tmp)
        requirements = list(self.key.requirements)
        if installer.name == "uv":
            assert installer.uv
            run([installer.uv, "venv", "--no-project", "--relocatable", "--quiet",
                 "--python", base, tmp], "uv venv")
            tool = run([installer.uv, "--version"], "uv --version").strip()
            if requirements:
                run([installer.uv, "pip", "install", "--python", target, "--",
                     *requirements], "installing")
        else:
            os.rmdir(tmp)  # venv wants to create it (an empty one is fine too, but be plain)
            run([base, "-m", "venv", "--without-pip", tmp], "python -m venv")
            pip, tool = _pip_command(self._runner, base, target)
            if requirements:
                run([*pip, "install", "--no-input", "--", *requirements], "installing")
        _link_runtime(tmp, links)
        installed = _probe(self._runner, target, "env")["installed"]
        return {"key": self.key.as_data(), "installer": tool, "runtime": links,
                "installed": installed, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds": round(time.monotonic() - started, 2)}

    def _move_into_place(self, tmp: str, final: str, marker: Dict[str, Any]) -> Built:
        cache.write_marker(tmp, marker)
        try:
            os.rename(tmp, final)
            return Built(final, marker, True)
        except OSError:
            pass
        existing = cache.usable(final, self.key)
        if existing is not None:  # another process built the same set first
            return Built(final, existing, False)
        # A stale environment (its hexsandbox links broke): swap it out.
        aside = tempfile.mkdtemp(prefix=f"{cache.BUILDING_PREFIX}old-", dir=self.root)
        os.rename(final, os.path.join(aside, "env"))
        os.rename(tmp, final)
        shutil.rmtree(aside, ignore_errors=True)
        return Built(final, marker, True)


def build(key: cache.EnvKey, root: Optional[str] = None,
          installer: Optional[Installer] = None) -> Built:
    """Build (or find a concurrent build of) ``key``'s environment; blocking."""
    return Build(key, root, installer).run()


def describe(requirements: Sequence[str]) -> Tuple[str, str]:
    """('requests, lxml', '2 packages') for the user's lines."""
    count = len(requirements)
    return ", ".join(requirements), f"{count} package" + ("" if count == 1 else "s")
