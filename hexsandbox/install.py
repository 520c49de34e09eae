"""``hexsandbox install`` / ``uninstall``: wire hexsandbox into a user's HexChat.

Install writes one small loader script into ``<configdir>/addons/``, which
HexChat's Python plugin autoloads. HexChat embeds Debian's system Python, which
does not see the virtualenv hexsandbox was installed into (pipx's, normally
``~/.local/pipx/venvs/hexsandbox``), so:

* the loader puts exactly the folders holding hexsandbox and the
  distributions it requires (read from the installed metadata, so a new
  dependency needs no change here) at the front of HexChat's ``sys.path``;
* workers run the Python install ran with (that venv's, which has all of
  them), unless hexsandbox.ini names another.

Both only work if the venv's Python is the one HexChat embeds (compiled
dependencies must match its ABI), so install refuses a version mismatch and
checks, before writing anything, that HexChat's Python can import hexsandbox
from those folders and that the worker Python can start a worker. Uninstall
removes the loader and the folders install created (if still empty): nothing
else.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import List, Optional

from . import __version__
from .config import sandbox_dir
from .environments.probe import required_distributions

LOADER_NAME = "hexsandbox_loader.py"
_MARKER = "# hexsandbox-install:"

_PYTHON_PLUGIN_GLOBS = (
    "/usr/lib/*/hexchat/plugins/python.so",
    "/usr/lib/hexchat/plugins/python.so",
    "/usr/lib64/hexchat/plugins/python.so",
    "/usr/local/lib/hexchat/plugins/python.so",
    "/var/lib/flatpak/runtime/io.github.Hexchat.Plugin.Python/*/*/*/files/lib/*python*.so",
    os.path.expanduser("~/.local/share/flatpak/runtime/io.github.Hexchat.Plugin.Python/*/*/*/files/lib/*python*.so"),
)

LOADER_TEMPLATE = '''\
__module_name__ = "hexsandbox"
__module_version__ = {version!r}
__module_description__ = "Runs the scripts in {sandbox} in their own processes"
# Written by `hexsandbox install`; `hexsandbox uninstall` removes it.
{marker} {manifest}
import sys

sys.path[:0] = [_path for _path in {paths!r} if _path not in sys.path]

import hexchat
import hexsandbox.startup

# hexsandbox imports on a thread, so HexChat's window is not held while it
# does (hexsandbox/startup.py); this timer starts the loader once it is done.
hexsandbox.startup.begin()


def _hexsandbox_start(_userdata):
    return hexsandbox.startup.tick(globals(), python={python!r})


hexchat.hook_timer(hexsandbox.startup.POLL_MS, _hexsandbox_start)
'''


class InstallError(Exception):
    """Install cannot go on; the message says what to do."""


@dataclass
class InstallResult:
    loader: str
    sandbox: str
    python: str
    warnings: List[str]


def find_config_dir(explicit: Optional[str] = None) -> str:
    """The given dir, else HexChat's (XDG), else the Flatpak one if only it exists."""
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    native = os.path.join(xdg, "hexchat")
    flatpak = os.path.expanduser("~/.var/app/io.github.Hexchat/config/hexchat")
    if not os.path.isdir(native) and os.path.isdir(flatpak):
        return flatpak
    return native


def find_python_plugin() -> Optional[str]:
    for pattern in _PYTHON_PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def embedded_python_version(plugin_path: str) -> Optional[str]:
    """'3.11' for a python.so linked against libpython3.11."""
    try:
        with open(plugin_path, "rb") as f:
            match = re.search(rb"libpython(3\.\d+)", f.read())
    except OSError:
        return None
    return match.group(1).decode() if match else None


def import_paths() -> List[str]:
    """Folders that must be on HexChat's sys.path: where hexsandbox and every
    distribution it needs (transitively) are installed, in that order.

    From the installed metadata, so ``pyproject.toml``'s dependencies are the
    one list; an editable install's hexsandbox is its checkout.
    """
    package = os.path.dirname(os.path.abspath(sys.modules[__package__].__file__ or ""))
    paths: List[str] = [os.path.dirname(package)]
    # The first is hexsandbox itself (its folder is above); none from a bare checkout.
    for required in required_distributions("hexsandbox")[1:]:
        folder = os.path.abspath(str(required.locate_file("")))
        if folder not in paths:
            paths.append(folder)
    return paths


def _check_imports(embedded: Optional[str], paths: List[str], python: str) -> None:
    """Before writing the loader: can HexChat's Python import hexsandbox from
    ``paths``, and can ``python`` run a worker? (A loader that fails at
    HexChat's next start would only say so inside HexChat.)"""
    host_python = f"/usr/bin/python{embedded}" if embedded else None
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    checks = []
    if host_python and os.access(host_python, os.X_OK):
        code = f"import sys; sys.path[:0] = {paths!r}; import hexsandbox.loader"
        checks.append((f"HexChat's Python ({host_python})", [host_python, "-I", "-c", code]))
    checks.append((f"the worker Python ({python})", [python, "-c", "import hexsandbox.worker"]))
    for who, argv in checks:
        try:
            done = subprocess.run(argv, env=env, cwd="/", stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=60)
        except OSError as exc:
            raise InstallError(f"{who} cannot be run: {exc.strerror}.") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise InstallError(f"{who} cannot import hexsandbox: {last}. Install hexsandbox with "
                               f"pipx install --python /usr/bin/python3 . (see README).")


def install(config_dir: Optional[str] = None, python: Optional[str] = None,
            require_plugin: bool = True, paths: Optional[List[str]] = None) -> InstallResult:
    """Write the loader. ``paths`` overrides where HexChat imports hexsandbox
    and its dependencies from (default: where this Python has them)."""
    config_dir = find_config_dir(config_dir)
    warnings: List[str] = []
    plugin = find_python_plugin()
    if plugin is None and require_plugin:
        raise InstallError(
            "HexChat's Python plugin is not installed, so HexChat cannot run hexsandbox. "
            "On Debian/Ubuntu: sudo apt install hexchat-python3 "
            "(Flatpak: flatpak install io.github.Hexchat.Plugin.Python).")
    embedded = embedded_python_version(plugin) if plugin is not None else None
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if embedded and embedded != mine:
        raise InstallError(
            f"HexChat embeds Python {embedded} but hexsandbox is installed for Python {mine}; "
            f"install it for HexChat's: pipx install --force --python /usr/bin/python{embedded} .")
    python = python or sys.executable
    paths = paths or import_paths()
    _check_imports(embedded, paths, python)
    created = []
    addons = os.path.join(config_dir, "addons")
    sandbox = sandbox_dir(config_dir)
    for folder in (config_dir, addons, sandbox):
        if not os.path.isdir(folder):
            os.makedirs(folder, mode=0o700)
            created.append(folder)
    loader = os.path.join(addons, LOADER_NAME)
    manifest = json.dumps({"created": created})
    with open(loader, "w", encoding="utf-8") as f:
        f.write(LOADER_TEMPLATE.format(version=__version__, sandbox=sandbox, marker=_MARKER,
                                       manifest=manifest, paths=paths, python=python))
    os.chmod(loader, 0o600)
    return InstallResult(loader, sandbox, python, warnings)


def uninstall(config_dir: Optional[str] = None) -> List[str]:
    """Remove what install added; returns the paths removed."""
    config_dir = find_config_dir(config_dir)
    loader = os.path.join(config_dir, "addons", LOADER_NAME)
    if not os.path.isfile(loader):
        return []
    created: List[str] = []
    with open(loader, encoding="utf-8") as f:
        for line in f:
            if line.startswith(_MARKER):
                created = json.loads(line[len(_MARKER):]).get("created", [])
    os.unlink(loader)
    removed = [loader]
    for folder in reversed(created):
        try:
            os.rmdir(folder)  # only if empty: never the user's scripts
            removed.append(folder)
        except OSError:
            pass
    return removed
