"""Per-script environments inside HexChat: never blocking its main thread.

:meth:`Environments.load` is what the host calls instead of starting a worker
directly. When nothing has to be installed (no metadata, or a cached
environment) it starts the worker at once, with no process run on the way.
Otherwise a background thread (neither HexChat's main thread nor any worker)
probes the interpreter if need be and builds; results come back through the
backend's ``call_soon``. One line when a build starts (an environment found
after the probe needs none), a second when it is done (the script starts) or
failed (with the installer's last words; the script is not loaded).

Two scripts with the same set loading at once may both build; the second to
finish finds the first's environment in place and uses it (build.py).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from ..backend import Backend
from ..config import CONFIG_FILENAME, load_settings, sandbox_dir
from .build import Build, BuildError, describe
from .metadata import MetadataError, Needs, read_needs
from .prepare import Ready, quick, slow

#: start(python) loads the script with that interpreter (None: the default).
Starter = Callable[[Optional[str]], Any]


@dataclass
class Event:
    """What happened to a script's environment (kept for /sandbox deps and tests)."""

    script: str
    kind: str          # 'reused' | 'built' | 'failed' | 'none'
    env: str = ""
    seconds: float = 0.0
    text: str = ""


class Environments:
    """The host's door to environments; every public method runs on the
    backend's main thread."""

    def __init__(self, backend: Backend, config_dir: str, default_python: Callable[[], str],
                 say: Callable[[str], None], root: Optional[str] = None) -> None:
        self.backend = backend
        self._say = say  # the host's: a line in the tab the user is looking at
        self.config_dir = config_dir
        self.default_python = default_python
        self.root = root
        self.events: List[Event] = []
        self._loading: set = set()                    # paths waiting for a build
        self._builds: List[Build] = []
        self._closed = False
        self._lock = threading.Lock()
        self._ini_cache: Optional[tuple] = None

    # ------------------------------------------------------------- public
    def needs(self, path: str) -> Needs:
        """What the script declares plus its ``[script:NAME] dependencies``
        (the ini is read again, so an edit counts at the next load)."""
        ini = self._settings().script_option(path, "dependencies")
        return read_needs(path, ini)

    def _settings(self) -> Any:
        """hexsandbox.ini as it is now: read again only when the file changed
        (autoloading thirty scripts would read it thirty times on HexChat's
        main thread)."""
        path = os.path.join(sandbox_dir(self.config_dir), CONFIG_FILENAME)
        try:
            st = os.stat(path)
            key: Any = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            key = None
        if self._ini_cache is None or self._ini_cache[0] != key:
            self._ini_cache = (key, load_settings(self.config_dir))
        return self._ini_cache[1]

    def load(self, path: str, python: Optional[str], start: Starter) -> Any:
        """Start ``path`` now (returns ``start``'s result) or after its
        environment is built (returns None)."""
        name = os.path.basename(path)
        if path in self._loading:
            self._say(f"hexsandbox: {name}: still installing; it loads when that is done.")
            return None
        base = python or self.default_python()
        try:
            needs = self.needs(path)
            ready = quick(needs, base, python, self.root, verify=python is not None)
        except MetadataError as exc:
            self._failed(name, f"hexsandbox: {name} not loaded: {exc}")
            return None
        if ready is not None:
            self.events.append(Event(name, "reused" if ready.env else "none", ready.env or ""))
            return start(ready.python)
        self._loading.add(path)
        label = ""
        if needs.requirements:
            packages, count = describe(needs.requirements)
            label = f"installing {packages} ({count})..."
        work = (needs, base, python)
        threading.Thread(target=self._prepare_in_background, args=(path, name, label, work, start),
                         name=f"hexsandbox-env:{name}", daemon=True).start()
        return None

    def pending(self) -> bool:
        """Whether a load waits for its environment (or interpreter probe)."""
        return bool(self._loading)

    def close(self) -> None:
        """HexChat quits or the loader unloads: stop installers, start nothing."""
        with self._lock:
            self._closed = True
            builds = list(self._builds)
        for build in builds:
            build.cancel()

    # ------------------------------------------------------- background
    def _prepare_in_background(self, path: str, name: str, label: str, work: tuple,
                               start: Starter) -> None:
        needs, base, python = work
        began = time.monotonic()
        mine: List[Build] = []
        told: List[bool] = []  # its line is on its way (call_soon keeps the order)

        def started(build: Build) -> None:
            self._track(build, mine)
            told.append(True)
            self.backend.call_soon(lambda: self._say(f"hexsandbox: {name}: {label}"))

        try:
            ready: Optional[Ready] = slow(needs, base, python, self.root, started=started)
            error = ""
        except BuildError as exc:  # the installer's own words after "installing ... failed:"
            ready, error = None, exc.detail if exc.step == "installing" else str(exc)
        except (MetadataError, OSError) as exc:
            ready, error = None, str(exc)
        finally:
            with self._lock:
                for build in mine:
                    self._builds.remove(build)
        seconds = time.monotonic() - began
        with self._lock:
            if self._closed:
                return
        shown = label if told else ""
        self.backend.call_soon(lambda: self._finish(path, name, shown, ready, error, seconds, start))

    def _track(self, build: Build, mine: List[Build]) -> None:
        with self._lock:
            self._builds.append(build)
            mine.append(build)
            if self._closed:
                build.cancel()

    def _finish(self, path: str, name: str, label: str, ready: Optional[Ready], error: str,
                seconds: float, start: Starter) -> None:
        """Back on the main thread: say how it went, then load or not."""
        self._loading.discard(path)
        if self._closed:
            return
        if ready is None:
            error = error.rstrip(".")
            line = (f"hexsandbox: {name}: {label} failed: {error}. Not loaded." if label
                    else f"hexsandbox: {name} not loaded: {error}")
            self._failed(name, line)
            return
        if label:
            tool = ready.marker.get("installer", "")
            how = f"done in {seconds:.1f} s" + (f" ({tool.split()[0]})" if tool else "")
            if not ready.built:
                how = "done (already installed)"
            self._say(f"hexsandbox: {name}: {label} {how}.")
        self.events.append(Event(name, "built" if ready.built else ("reused" if ready.env else "none"),
                                 ready.env or "", seconds))
        start(ready.python)

    def _failed(self, name: str, line: str) -> None:
        self.events.append(Event(name, "failed", text=line))
        self._say(line)
