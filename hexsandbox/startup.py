"""The loader's first step inside HexChat: import hexsandbox off the main thread.

Importing the loader (the sandbox, the RPC stack, the proxy generator, the
environments service) takes 60-200 ms of CPU. Done at the top level of the
loader script, as HexChat's Python plugin autoloads it, that is 60-200 ms
during which HexChat's window does not redraw (issue 14: autoloading thirty
scripts may hold the main thread 50 ms in all). So the loader script only
registers a short HexChat timer (:func:`tick`): its first tick starts a
thread that imports ``hexsandbox.loader``, and the main thread runs the
loader's ``start`` at the first tick after the import is done. HexChat's main loop runs meanwhile: the
Python plugin hands the GIL back while HexChat is in C.

This module imports only the standard library. The timer callback must be
a function of the loader script itself, not of this module: HexChat's
``hexchat.hook_*`` find the calling script by walking the stack to a frame
whose globals hold its ``__plugin``, and ``start`` registers hooks.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, List, Optional

#: How often the loader script's timer looks whether the import is done.
POLL_MS = 10

_done = threading.Event()
_failure: List[str] = []
#: The tab HexChat was in when it autoloaded the loader: autoloaded scripts
#: start there, as they would in process, even if HexChat joined a channel
#: while hexsandbox was importing.
_context: List[Any] = []


def begin() -> None:
    """At the loader script's top level (main thread): note the tab. The
    import starts at the first :func:`tick`, once HexChat's main loop runs,
    so it does not compete for the GIL with the rest of the Python plugin's
    autoload."""
    import hexchat  # the real module: inside HexChat's Python plugin

    _context[:] = [hexchat.get_context()]


def _start_import() -> None:
    if _done.is_set() or any(t.name == "hexsandbox-import" for t in threading.enumerate()):
        return
    threading.Thread(target=_import, name="hexsandbox-import", daemon=True).start()


#: Imported on the thread: the loader, and what its start imports lazily.
MODULES = ("hexsandbox.loader", "hexsandbox.hexchat_backend", "hexsandbox.remote.service")


def _import() -> None:
    import importlib

    try:
        for name in MODULES:
            importlib.import_module(name)
    except BaseException:  # told on the main thread, in plain words
        _failure.append(traceback.format_exc())
    finally:
        _done.set()


def tick(plugin_globals: dict, python: Optional[str] = None) -> bool:
    """The loader script's timer: True (poll again) until the import is
    done; then start the loader on the main thread and stop polling."""
    if not _done.is_set():
        _start_import()
        return True
    import hexchat  # the real module: inside HexChat's Python plugin

    if _failure:
        last = _failure[0].strip().splitlines()[-1]
        hexchat.prnt(f"hexsandbox could not start: {last} (reinstall with `hexsandbox install`)")
        return False
    from . import loader

    previous = hexchat.get_context()
    if _context and _context[0] is not None:
        _context[0].set()
    try:
        loader.start(plugin_globals, python=python)
    finally:
        if previous is not None:
            previous.set()
    return False

