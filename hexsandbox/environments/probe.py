"""Asks an interpreter what hexsandbox needs to know about it; runs *in* it.

``python -c BOOTSTRAP base`` (see :data:`BOOTSTRAP`) prints one JSON object:
the interpreter's version and where it imports hexsandbox's worker and that
worker's third-party dependencies from. Environments link exactly those into
``hexsandbox-runtime/`` (see ``docs/environments.md``). The bootstrap checks the
version before importing anything of ours, so a too-old Python gets a clear
line instead of a SyntaxError.

``python -c BOOTSTRAP env`` is run with a freshly built environment's Python:
it imports the worker as a spawned worker would, and lists the distributions
installed in that environment (for the marker and ``/sandbox deps``).

Only plain data leaves this module (JSON on stdout); nothing is decoded into
objects on the other side.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import sysconfig
from typing import Any, Dict, List

#: Oldest Python the worker runs on (pyproject's requires-python).
MIN_PYTHON = (3, 9)

def bootstrap(minimum: tuple = MIN_PYTHON) -> str:
    """Source for ``python -c``: prints JSON, never a traceback. The version
    check comes first and uses nothing newer than Python 3.0."""
    need = f"{minimum[0]}.{minimum[1]}"
    return (
        "import sys, json\n"
        f"if sys.version_info < {tuple(minimum)!r}:\n"
        "    print(json.dumps({'ok': False, 'error': 'is Python %d.%d; the worker needs "
        f"{need} or newer' % sys.version_info[:2]}}))\n"
        "    raise SystemExit(0)\n"
        "try:\n"
        "    from hexsandbox.environments import probe\n"
        "except Exception as e:\n"
        "    print(json.dumps({'ok': False, 'error': 'cannot import hexsandbox (%s: %s); "
        "install hexsandbox for that Python' % (type(e).__name__, e)}))\n"
        "    raise SystemExit(0)\n"
        "probe.main(sys.argv[1:])\n"
    )


BOOTSTRAP = bootstrap()

#: What a worker imports, beyond the standard library; what they pull in is
#: found in ``sys.modules`` afterwards. Named here because it loads lazily:
#: cloudpickle, for tools' RUN. Installs with metadata are also walked
#: through their requirements (:func:`distribution_links`).
WORKER_IMPORTS = ("hexsandbox.spawning", "hexsandbox.worker", "cloudpickle")

#: Import-time helpers of some installs, never part of what a worker needs.
_NOT_RUNTIME = ("_distutils_hack", "sitecustomize", "usercustomize", "__main__")


def _stdlib_dirs() -> List[str]:
    paths = sysconfig.get_paths()
    return [os.path.realpath(paths[key]) for key in ("stdlib", "platstdlib") if key in paths]


def runtime_links() -> Dict[str, str]:
    """Top-level name -> file or package folder, for every non-stdlib module a
    worker loads (hexsandbox itself included)."""
    for name in WORKER_IMPORTS:
        importlib.import_module(name)
    stdlib = _stdlib_dirs()
    builtin = set(getattr(sys, "stdlib_module_names", ())) | set(sys.builtin_module_names)
    links: Dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        if "." in name or name in builtin or name.startswith(("__editable__", "_virtualenv")):
            continue
        if name in _NOT_RUNTIME:
            continue
        path = getattr(module, "__file__", None)
        if not path:
            continue
        path = os.path.realpath(path)
        if any(path.startswith(d + os.sep) and "-packages" + os.sep not in path[len(d):]
               for d in stdlib):
            continue
        is_package = hasattr(module, "__path__")
        links[name] = os.path.dirname(path) if is_package else path
    return links


def _top_level_names(dist: Any) -> List[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return text.split()
    names = set()
    for file in dist.files or ():
        first = file.parts[0] if file.parts else ""
        if first.endswith((".dist-info", ".egg-info", ".pth")) or first in ("..", "__pycache__"):
            continue
        if len(file.parts) > 1 or first.endswith(".py"):
            names.add(first[:-3] if first.endswith(".py") else first)
    return sorted(names)


def required_distributions(root: str = "hexsandbox") -> List[Any]:
    """``root``'s distribution and every one it needs at run time,
    transitively (extras left out), breadth first; ones not installed with
    metadata are skipped. (``hexsandbox install`` uses it too.)"""
    import re
    from importlib import metadata

    found: List[Any] = []
    todo, seen = [root], set()
    while todo:
        name = todo.pop(0)
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(dist)
        for requirement in dist.requires or ():
            _spec, _, marker = requirement.partition(";")
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match and "extra" not in marker:
                todo.append(match.group(1))
    return found


def distribution_links(root: str = "hexsandbox") -> Dict[str, str]:
    """Top-level name -> location for ``root`` and its requirements (see
    :func:`required_distributions`)."""
    import importlib.util

    links: Dict[str, str] = {}
    for dist in required_distributions(root):
        for top in _top_level_names(dist):
            spec = importlib.util.find_spec(top)
            if spec is None:
                continue
            if spec.submodule_search_locations:
                links[top] = os.path.realpath(list(spec.submodule_search_locations)[0])
            elif spec.origin and os.path.isfile(spec.origin):
                links[top] = os.path.realpath(spec.origin)
    return links


def installed_here() -> Dict[str, str]:
    """Distributions in this environment's own site-packages: name -> version."""
    from importlib import metadata

    site = os.path.realpath(sysconfig.get_paths()["purelib"])
    found: Dict[str, str] = {}
    for dist in metadata.distributions(path=[site]):
        name = dist.metadata["Name"]
        if name:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def main(argv: List[str]) -> None:
    result: Dict[str, Any] = {"ok": True, "version": list(sys.version_info[:3]),
                              "executable": sys.executable}
    try:
        if argv[:1] == ["env"]:
            for name in WORKER_IMPORTS:
                importlib.import_module(name)
            result["installed"] = installed_here()
        else:
            result["links"] = {**distribution_links(), **runtime_links()}
    except Exception as exc:
        result = {"ok": False, "error": f"cannot import the worker's needs ({type(exc).__name__}: {exc})"}
    sys.stdout.write(json.dumps(result) + "\n")
