"""Running a script's top level as HexChat 2.16's Python plugin does.

``load_script`` compiles and executes the file with the plugin's globals
(``__plugin``, ``__name__ = "__main__"``), reads ``__module_name__`` and
friends, and tells the client ``loaded`` or ``load_failed``; errors print
as the in-process plugin prints them. ``runtime`` is the worker's
:class:`hexsandbox.worker.WorkerRuntime` (its ``oneway``, ``current_ctx``
and ``run_unload_hooks``).
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, Dict


def print_callback_error() -> None:
    """Print the script's traceback, without the worker's own frames.

    As in process: HexChat 2.16's python.py lets the exception escape its
    cffi callback, and cffi reports it through ``sys.unraisablehook``, which
    prints the last exception's traceback only, never the chain ("During
    handling of the above exception..."), so neither do we.
    """
    exc_type, exc, tb = sys.exc_info()
    if tb is not None:
        tb = tb.tb_next  # drop the dispatching frame
    if tb is None:
        # Nothing of the script's ran (a SyntaxError from compile): in process
        # the header still comes, above python.py's own frame.
        sys.stderr.write("Traceback (most recent call last):\n")
    traceback.print_exception(exc_type, exc, tb, chain=False)


class _Plugin:
    """What scripts find as ``__plugin`` in their globals (as in process)."""

    def __init__(self, path: str) -> None:
        self.filename = path
        self.name = ""
        self.version = ""
        self.description = ""


def load_script(runtime: Any, path: str) -> bool:
    """Compile and run the script as HexChat's Python plugin does."""
    plugin = _Plugin(path)
    globals_: Dict[str, Any] = {"__plugin": plugin, "__name__": "__main__"}
    # From here HexChat serves only this worker until "loaded"/"load_failed"
    # (up to the deadline), so nothing else can come between the script's
    # load output and its outcome, as in process (docs/architecture.md).
    runtime.oneway("loading", runtime.current_ctx, [])
    try:
        with open(path, "rb") as f:
            data = f.read().decode("utf-8")
        compiled = compile(data, path, "exec", optimize=2, dont_inherit=True)
        exec(compiled, globals_)
        try:
            plugin.name = globals_["__module_name__"]
        except KeyError:
            runtime.oneway("prnt", runtime.current_ctx,
                           ["Failed to load module: __module_name__ must be set"])
            runtime.run_unload_hooks()  # in process the discarded Plugin runs them
            runtime.oneway("load_failed", runtime.current_ctx,
                           ["__module_name__ must be set"])
            return False
        plugin.version = globals_.get("__module_version__", "")
        plugin.description = globals_.get("__module_description__", "")
    except Exception as e:
        runtime.oneway("prnt", runtime.current_ctx, [f"Failed to load module: {e}"])
        print_callback_error()  # the traceback, from the script's own frames
        runtime.run_unload_hooks()  # in process the discarded Plugin runs them
        runtime.oneway("load_failed", runtime.current_ctx, [_load_error_kind(e)])
        return False
    runtime.oneway("loaded", runtime.current_ctx,
                   [str(plugin.name), str(plugin.version), str(plugin.description)])
    return True


def _load_error_kind(exc: BaseException) -> str:
    """A one-line reason, recognising Python 2 scripts."""
    if isinstance(exc, SyntaxError) and _looks_like_python2(exc):
        return f"Python 2 only: {exc.msg} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


def _looks_like_python2(exc: SyntaxError) -> bool:
    text = (exc.text or "").strip()
    msg = exc.msg or ""
    return ("Missing parentheses in call to 'print'" in msg
            or "Missing parentheses in call to 'exec'" in msg
            or text.startswith(("print ", "exec "))
            or ("except" in text and "," in text and text.rstrip().endswith(":"))
            or "ur'" in text or 'ur"' in text
            or msg.startswith("invalid decimal literal") and text.rstrip("L").isdigit())
