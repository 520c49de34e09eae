"""The client's handlers for a Perl worker's calls, built from the Perl table.

A row whose backend call is the same as a Python row's uses that row's wire
name, and so the handler :mod:`hexsandbox.dispatch` generated for it (the
same argument checks, context switching and backend call). The Perl-only
calls (``perl.*``) are served here:

* **pluginprefs** go to the in-process Perl plugin's own store,
  ``<configdir>/addon_perl.conf``. HexChat's ``hexchat_pluginpref_*`` name
  the file after the calling plugin (``addon_<canonical name>.conf``, plugin.c),
  and the client runs inside the *Python* plugin, so its own pref calls would
  write ``addon_python.conf``. The file is therefore written as plugin.c
  writes it (:class:`hexsandbox.emulator.prefs.PluginPrefs`, the same model
  the emulator uses: ``name = g_strescape(value)`` lines, written to
  ``.new`` and renamed, read case-insensitively, values cut to 511 bytes), and
  only ever on HexChat's main thread -- where the in-process Perl plugin
  writes it too, so the two never interleave. A script moved from addons/ to
  the sandbox therefore keeps its settings, and one moved back finds them;
* ``context_info``: perl.c returns the ``channels`` list fields of the
  current context (a NULL list in ``hexchat_list_str`` is the current
  context), i.e. the channels row whose context is the current one;
* ``send_modes``: HexChat's Python binding has no ``hexchat_send_modes``, so
  the modes are sent as the MODE commands ``send_channel_modes`` writes,
  ``modes_per_line`` to a line (0: 3, HexChat's default before the server's
  ISUPPORT MODES is known; see docs/perl.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from .. import dispatch
from ..dispatch import CallError
from ..emulator.prefs import PluginPrefs
from ..emulator.prefs_table import PREFS
from . import api_table as api

if TYPE_CHECKING:  # pragma: no cover
    from ..sandbox import Sandbox, Script

Handler = Callable[["Sandbox", "Script", Optional[int], List[Any]], Any]

#: HexChat's name for the Perl plugin (perl.c's hexchat_plugin_init).
PERL_PLUGIN_NAME = "Perl"

#: modes_per_line when the script gives 0 (see the module docstring).
DEFAULT_MODES_PER_LINE = 3


def _strings(args: List[Any], count: int, name: str) -> List[str]:
    if len(args) != count or not all(type(a) is str for a in args):
        raise CallError("TypeError", f"{name}() takes {count} strings")
    return args


def _enter(sandbox: "Sandbox", ctx: Optional[int]) -> None:
    backend = sandbox.backend
    if ctx is None or not backend.set_context(ctx):
        backend.set_context(backend.front_context())


def _store(sandbox: "Sandbox", ctx: Optional[int]) -> PluginPrefs:
    _enter(sandbox, ctx)
    return PluginPrefs(sandbox.backend.get_info("configdir") or ".", PERL_PLUGIN_NAME)


def _pref_set(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> int:
    name, value = _strings(args, 2, "plugin_pref_set")
    return int(_store(sandbox, ctx).set(name, value))


def _pref_get(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Optional[str]:
    (name,) = _strings(args, 1, "plugin_pref_get")
    raw = _store(sandbox, ctx).get_str(name)
    return None if raw is None else raw.decode("utf-8", "replace")


def _pref_delete(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> int:
    (name,) = _strings(args, 1, "plugin_pref_delete")
    return int(_store(sandbox, ctx).delete(name))


def _pref_list(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> List[str]:
    _strings(args, 0, "plugin_pref_list")
    store = _store(sandbox, ctx)
    pairs: List[str] = []
    for name in store.list():
        if name:  # strtok skips the empty piece after the last ','
            raw = store.get_str(name)
            pairs += [name, "" if raw is None else raw.decode("utf-8", "replace")]
    return pairs


def _context_info(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Any:
    _strings(args, 0, "context_info")
    _enter(sandbox, ctx)
    backend = sandbox.backend
    current = backend.get_context()
    for row in backend.get_list("channels") or []:
        if row.get("context") == current:
            return row
    return {}


def _send_modes(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> None:
    if len(args) != 4 or not isinstance(args[0], list) or type(args[3]) is not int:
        raise CallError("TypeError", "send_modes() takes (targets, sign, mode, modes_per_line)")
    targets, sign, mode, per_line = args
    if not all(type(t) is str for t in targets) or type(sign) is not str or type(mode) is not str:
        raise CallError("TypeError", "send_modes(): targets, sign and mode are strings")
    if not targets or not sign or not mode:
        return None
    _enter(sandbox, ctx)
    channel = sandbox.backend.get_info("channel") or ""
    per_line = per_line if per_line > 0 else DEFAULT_MODES_PER_LINE
    for start in range(0, len(targets), per_line):
        chunk = targets[start:start + per_line]
        sandbox.backend.command(f"MODE {channel} {sign[0]}{mode[0] * len(chunk)} {' '.join(chunk)}")
    return None


def _with_bool_prefs(handler: Handler) -> Handler:
    """get_prefs of a boolean setting is a real bool for Perl (perl.c's
    XSRETURN_YES / XSRETURN_NO: 1 and ''); the shared handler gives 0/1."""

    def handle(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Any:
        value = handler(sandbox, script, ctx, args)
        entry = PREFS.get(args[0].lower()) if args and type(args[0]) is str else None
        if entry is not None and entry[0] == "bool" and type(value) is int:
            return bool(value)
        return value

    return handle


_PERL_ONLY: Dict[str, Handler] = {
    "perl.plugin_pref_set": _pref_set,
    "perl.plugin_pref_get": _pref_get,
    "perl.plugin_pref_delete": _pref_delete,
    "perl.plugin_pref_list": _pref_list,
    "perl.context_info": _context_info,
    "perl.send_modes": _send_modes,
}

_SHAPED: Dict[str, Callable[[Handler], Handler]] = {"get_prefs": _with_bool_prefs}


def build_handlers() -> Dict[str, Handler]:
    """wire method -> handler, for every call a Perl worker may send."""
    handlers: Dict[str, Handler] = {}
    for call in api.CALLS:
        if call.reuses_python:
            assert call.wire is not None
            shared = dispatch.HANDLERS[call.wire]
            handlers[call.wire] = _SHAPED.get(call.wire, lambda h: h)(shared)
    handlers["unhook"] = dispatch.HANDLERS["unhook"]
    handlers.update(_PERL_ONLY)
    missing = set(api.PERL_ONLY_WIRE) - set(handlers)
    assert not missing, f"Perl rows without a client handler: {missing}"
    return handlers


HANDLERS: Dict[str, Handler] = build_handlers()
