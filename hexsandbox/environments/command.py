"""``/sandbox deps NAME`` and ``/sandbox deps NAME add PKG...``.

Showing reads only files (the script, hexsandbox.ini, the environment's
marker): no process is started, so it answers at once. Adding records the
packages in hexsandbox.ini (never in the user's script) and loads the script
again through the host's load path, which builds the new environment in the
background.
"""

from __future__ import annotations

import os
from typing import Any, Callable, List

from ..client import Sandbox, SandboxError, Script
from ..config import sandbox_dir
from . import cache
from .inifile import add_dependencies
from .metadata import MetadataError, check_requirement
from .prepare import known_version
from .service import Environments

USAGE = "Usage: /sandbox deps <script> [add <package> ...]"


class DepsCommand:
    def __init__(self, environments: Environments, sandbox: Sandbox, config_dir: str,
                 load: Callable[[str], Any], reload: Callable[[Script], Any],
                 python: Callable[[str], str], say: Callable[[str], None]) -> None:
        self.environments = environments
        self.sandbox = sandbox
        self.config_dir = config_dir
        self.load = load            # the host's load path (environment, then worker)
        self.reload = reload        # ... and its reload (unload, then that load path)
        self.python = python        # path -> the base interpreter it would use
        self.say = say

    def run(self, arg: str) -> None:
        words = arg.split()
        if not words:
            raise SandboxError(USAGE)
        path = self._path(words[0])
        if len(words) == 1:
            self.show(path)
        elif words[1].lower() == "add" and len(words) > 2:
            self.add(path, words[2:])
        else:
            raise SandboxError(USAGE)

    def _path(self, name: str) -> str:
        script = self.sandbox.find(name)
        if script is not None:
            return script.path
        path = os.path.join(sandbox_dir(self.config_dir), os.path.basename(name))
        if not path.endswith(".py"):
            path += ".py"
        if not os.path.isfile(path):
            raise SandboxError(f"no sandboxed script called '{name}'. /sandbox list shows them.")
        return path

    def show(self, path: str) -> None:
        name = os.path.basename(path)
        try:
            needs = self.environments.needs(path)
        except MetadataError as exc:
            raise SandboxError(f"{name}: {exc}") from None
        base = self.python(path)
        parts = [f"{r} (script)" for r in needs.declared] + [f"{r} (hexsandbox.ini)" for r in needs.configured]
        if not parts:
            self.say(f"hexsandbox: {name} declares no dependencies; it runs {base}.")
            return
        self.say(f"hexsandbox: {name} needs: {', '.join(parts)}")
        version = known_version(base)
        found = (cache.lookup(cache.make_key(base, version, needs.requirements),
                              self.environments.root) if version else None)
        if found is None:
            self.say(f"hexsandbox: {name}: no environment for this set on {base} yet; "
                     f"it is built when the script loads.")
            return
        env, marker = found
        self.say(f"hexsandbox: {name} environment: {env} "
                 f"({marker.get('installer', '?')}, built {marker.get('built_at', '?')})")
        installed = marker.get("installed") or {}
        listed = ", ".join(f"{n} {v}" for n, v in installed.items()) or "nothing"
        self.say(f"hexsandbox: {name} installed: {listed}")

    def add(self, path: str, packages: List[str]) -> None:
        name = os.path.basename(path)
        try:
            wanted = [check_requirement(p) for p in packages]
        except MetadataError as exc:
            raise SandboxError(f"{name}: {exc}") from None
        result = add_dependencies(self.config_dir, name, wanted)
        self.say(f"hexsandbox: {name}: hexsandbox.ini [script:{name}] dependencies = {', '.join(result)}")
        script = self.sandbox.find(path)
        if script is not None:
            self.reload(script)
        else:
            self.load(path)

