"""The worker-side ``hexchat`` module, generated from :mod:`hexsandbox.api_table`.

:func:`generate_source` turns each table row into a plain Python function
(real signature, real arity errors, docstring) that checks its arguments the
way the in-process module fails on them and hands the call to the worker
runtime. :func:`build_module` executes that source into a fresh module.
The source is generated at import time, so the table stays the only
description of the API; ``python -m hexsandbox.proxy`` prints it.

The runtime object (``_rt``) the generated code talks to is
:class:`hexsandbox.worker.WorkerRuntime`; it provides ``current_ctx``,
``oneway``, ``reentrant``, ``request``, ``add_hook``, ``add_unload_hook`` and
``unhook``.
"""

from __future__ import annotations

import types
from typing import Any, Dict, List, Sequence

from . import api_table as api
from .api_table import Call, Kind, Param, Returns, Traffic

# ---------------------------------------------------------------------------
# Helpers the generated code calls. They reproduce the exceptions the
# in-process module raises (it calls ``.encode()`` on strings and hands ints
# to cffi), and coerce subclasses to exact plain types for the codec.


def _str(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    raise AttributeError(f"'{type(value).__name__}' object has no attribute 'encode'")


def _opt_str(value: Any) -> Any:
    return None if value is None else _str(value)


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, int):
        return int(value)
    raise TypeError(f"an integer is required (got type {type(value).__name__})")


def _pad4(args: tuple) -> List[str]:
    """emit_print sends exactly four strings; missing ones are ''."""
    return [_str(args[i]) if len(args) > i else "" for i in range(4)]


class Context:
    """A HexChat context (tab). Equal when they name the same context."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: int) -> None:
        self._ctx = ctx

    def __eq__(self, value: object) -> bool:
        if not isinstance(value, Context):
            return False
        return self._ctx == value._ctx

    # In process Context defines __eq__ only, which makes it unhashable.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<hexchat.Context object at {hex(id(self))}>"


class ListItem:
    """One row of ``get_list``; one attribute per field."""

    def __init__(self, name: str) -> None:
        self._listname = name

    def __repr__(self) -> str:
        return "<{} list item at {}>".format(self._listname, id(self))


class Attribute:
    """Event attributes passed to ``*_attrs`` hooks."""

    def __init__(self) -> None:
        self.time = 0

    def __repr__(self) -> str:
        return "<Attribute object at {}>".format(id(self))


def _to_list(runtime: Any, name: str, rows: Any) -> Any:
    if rows is None:
        return None
    items = []
    for row in rows:
        item = ListItem(name)
        for field, value in row.items():
            if field == "context":
                value = Context(runtime.live_context(value))
            setattr(item, field, value)
        items.append(item)
    return items


#: How each kind of result is rebuilt in the worker.
RESULT_BUILDERS: Dict[Returns, str] = {
    Returns.CONTEXT: "Context(_rt.live_context({v}))",
    Returns.OPT_CONTEXT: "(None if {v} is None else Context(_rt.live_context({v})))",
    Returns.LIST: "_to_list(_rt, name, {v})",
    Returns.BOOL: "bool({v})",
}

_CHECKERS: Dict[Kind, str] = {Kind.STR: "_str", Kind.OPT_STR: "_opt_str", Kind.INT: "_int"}


def _default_repr(param: Param) -> str:
    if param.default is None:
        return "None"
    if param.name == "priority":
        return "PRI_NORM"
    return repr(param.default)


def _signature(call: Call) -> str:
    parts = ["self"] if call.owner == "Context" else []
    for p in call.params:
        parts.append(p.name if p.required else f"{p.name}={_default_repr(p)}")
    if call.varargs:
        parts.append(f"*{call.varargs}")
    if call.kwonly:
        # In process these arrive through **kwargs (a py2 habit): extra
        # keywords are ignored, so we accept them the same way.
        parts.append("**kwargs")
    return ", ".join(parts)


def _body(call: Call) -> List[str]:
    lines: List[str] = []
    for p in call.kwonly:
        lines.append(f"{p.name} = kwargs.pop({p.name!r}, {p.default!r})")
    for p in call.params:
        checker = _CHECKERS.get(p.kind)
        if checker and p.wire:
            lines.append(f"{p.name} = {checker}({p.name})")
        elif p.kind is Kind.VALUE:
            # Mirrors _hexchat.py's set_pluginpref: str and int (bool
            # included) are stored, anything else answers False at once.
            lines += [f"if isinstance({p.name}, str): {p.name} = _str({p.name})",
                      f"elif isinstance({p.name}, int): {p.name} = int({p.name})",
                      "else: return False"]
    wire_args = [p.name for p in call.params if p.wire]
    if call.varargs:
        wire_args.append(f"_pad4({call.varargs})")
    for p in call.kwonly:
        lines.append(f"{p.name} = _int({p.name})")
        wire_args.append(p.name)
    if call.owner == "Context":
        wire_args.insert(0, "self._ctx")
        if call.name != "set":
            lines.append("_rt.check_context(self._ctx)")
    args = "[" + ", ".join(wire_args) + "]"
    method = call.wire_name

    if call.traffic is Traffic.ONEWAY:
        lines.append(f"_rt.oneway({method!r}, _rt.current_ctx, {args})")
    elif call.traffic is Traffic.REENTRANT:
        lines.append(f"_rt.reentrant({method!r}, _rt.current_ctx, {args})")
    elif call.traffic is Traffic.TWOWAY:
        lines.append(f"_v = _rt.request({method!r}, _rt.current_ctx, {args})")
        if call.sets_context:
            lines.append("if _v: _rt.current_ctx = self._ctx")
        builder = RESULT_BUILDERS.get(call.returns, "{v}")
        lines.append("return " + builder.format(v="_v"))
    elif call.traffic is Traffic.HOOK:
        hook_args = "[" + ", ".join(p.name for p in call.params if p.wire) + "]"
        lines.append(f"return _rt.add_hook({call.name!r}, {call.hook!r}, {call.with_attrs!r}, "
                     f"callback, userdata, {hook_args})")
    else:  # LOCAL
        assert call.local_body, f"LOCAL row {call.wire_name} needs a local_body"
        lines.append(call.local_body)
    return lines


def generate_source(calls: Sequence[Call] = api.CALLS) -> str:
    """Python source of the worker's ``hexchat`` module, from the API table."""
    out = ['"""HexChat Scripting Interface (hexsandbox worker proxy, generated)."""', ""]
    for name, value in api.CONSTANTS.items():
        out.append(f"{name} = {value!r}")
    out.append(f"__version__ = {api.MODULE_VERSION!r}")
    out.append(f"__all__ = {list(api.PUBLIC_NAMES)!r}")
    out.append("")
    for call in calls:
        if call.owner != "module":
            continue
        out.append(f"def {call.name}({_signature(call)}):")
        out.append(f"    {call.doc!r}")
        out += ["    " + line for line in _body(call)]
        out.append("")
    for call in calls:
        if call.owner != "Context":
            continue
        out.append(f"def _Context_{call.name}({_signature(call)}):")
        out.append(f"    {call.doc!r}")
        out += ["    " + line for line in _body(call)]
        out.append(f"_Context_{call.name}.__name__ = {call.name!r}")
        out.append(f"_Context_{call.name}.__qualname__ = 'Context.{call.name}'")
        out.append(f"setattr(Context, {call.name!r}, _Context_{call.name})")
        out.append(f"del _Context_{call.name}")
        out.append("")
    return "\n".join(out)


SOURCE = generate_source()
_CODE = compile(SOURCE, "<hexsandbox generated hexchat proxy>", "exec")


def build_module(runtime: Any, name: str = "hexchat",
                 extra_calls: Sequence[Call] = ()) -> types.ModuleType:
    """A fresh ``hexchat``-compatible module bound to ``runtime``.

    Context/ListItem/Attribute classes are shared by every module built in a
    process, so ``hexchat.Context`` and ``xchat.Context`` are the same class.
    """
    module = types.ModuleType(name)
    namespace = module.__dict__
    namespace.update({
        "_rt": runtime,
        "_str": _str, "_opt_str": _opt_str, "_int": _int, "_pad4": _pad4,
        "_to_list": _to_list, "_LISTS": api.LISTS,
        "Context": Context, "ListItem": ListItem, "Attribute": Attribute,
    })
    code = _CODE if not extra_calls else compile(
        generate_source(tuple(api.CALLS) + tuple(extra_calls)),
        "<hexsandbox generated hexchat proxy>", "exec")
    exec(code, namespace)
    # In process ``from _hexchat import *`` copies '__doc__' over the module doc.
    module.__doc__ = api.MODULE_DOC
    return module


def _main() -> None:  # pragma: no cover - a developer convenience
    print(SOURCE)


if __name__ == "__main__":  # pragma: no cover
    _main()

__all__ = ["build_module", "generate_source", "SOURCE", "Context", "ListItem", "Attribute"]
