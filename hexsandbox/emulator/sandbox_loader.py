"""``/py load`` and friends on the emulator, through the sandbox that runs
the scripts (``Emulator.attach_python_loader(SandboxLoader(sandbox))``).

Duck-typed on the sandbox's public script API (``load(path)``,
``unload(script)``, ``find(name)``, ``scripts`` with ``name``, ``version``,
``path``, ``description``), so the emulator does not import the sandbox.
"""

from __future__ import annotations

import os
from typing import Any, List, Tuple


class SandboxLoader:
    """A :class:`~hexsandbox.emulator.plugins.PythonLoader` over a sandbox."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox

    def load(self, path: str) -> bool:
        if not os.path.isfile(path):
            return False
        self.sandbox.load(path)
        return True

    def unload(self, name: str) -> bool:
        script = self.sandbox.find(name)
        if script is None:
            return False
        self.sandbox.unload(script)
        return True

    def loaded(self) -> List[Tuple[str, str, str, str]]:
        return [(s.name, s.version, os.path.basename(s.path), s.description)
                for s in self.sandbox.scripts]
