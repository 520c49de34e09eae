"""The client's dispatch table, generated from :mod:`hexsandbox.api_table`.

Every API call a worker sends arrives here as ``(method, ctx, args)`` from an
untrusted process. :func:`build_handlers` makes one handler per table row that

1. checks the argument list against the row (count and types) and answers a
   bad call with :class:`CallError` instead of touching HexChat;
2. makes the worker's current context HexChat's current context, with the
   in-process plugin's rules for closed contexts;
3. calls the backend method of the same name and returns its plain result.

Hook rows and bookkeeping notes are handed to the :class:`Sandbox`, which owns
the per-script state they change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

from . import api_table as api
from .rpc import messages as M
from .api_table import Call, Kind, Returns, Traffic
from .backend import Backend

if TYPE_CHECKING:  # pragma: no cover
    from .sandbox import Sandbox, Script

Handler = Callable[["Sandbox", "Script", Optional[int], List[Any]], Any]

class CallError(Exception):
    """A worker's call that cannot be served; sent back as an exception."""

    def __init__(self, exc_type: str, message: str) -> None:
        super().__init__(message)
        self.exc_type = exc_type
        self.message = message


def _check_value(kind: Kind, value: Any, where: str) -> Any:
    if kind is Kind.STR and type(value) is str:
        return value
    if kind is Kind.OPT_STR and (value is None or type(value) is str):
        return value
    if kind in (Kind.INT, Kind.ANY) and type(value) in (int, bool):
        return int(value)
    if kind is Kind.VALUE and type(value) in (str, int, bool):
        return value
    raise CallError("TypeError", f"{where}: unexpected {type(value).__name__}")


def _wire_kinds(call: Call) -> List[Kind]:
    """The types of the argument list a worker sends for this row."""
    kinds: List[Kind] = []
    if call.owner == "Context":
        kinds.append(Kind.INT)          # target context handle
    if call.traffic is Traffic.HOOK:
        kinds.append(Kind.INT)          # the worker's hook id
    kinds += [p.kind for p in call.params if p.wire]
    return kinds


def make_checker(call: Call) -> Callable[[List[Any]], List[Any]]:
    """An argument checker for one row (varargs = a list of four strings)."""
    kinds = _wire_kinds(call)
    extra = (1 if call.varargs else 0) + len(call.kwonly)
    expected = len(kinds) + extra
    name = call.wire_name

    def check(args: List[Any]) -> List[Any]:
        if len(args) != expected:
            raise CallError("TypeError", f"{name}() takes {expected} wire arguments, got {len(args)}")
        out = [_check_value(kind, value, name) for kind, value in zip(kinds, args)]
        rest = args[len(kinds):]
        if call.varargs:
            words = rest[0]
            if not isinstance(words, list) or len(words) != 4:
                raise CallError("TypeError", f"{name}(): event arguments must be 4 strings")
            out.append([_check_value(Kind.STR, w, name) for w in words])
            rest = rest[1:]
        out += [_check_value(p.kind, v, name) for p, v in zip(call.kwonly, rest)]
        return out

    return check


def _enter_context(backend: Backend, ctx: Optional[int], call: Call) -> Any:
    """Make ``ctx`` current; return _NO_RESULT, or the row's answer for a
    closed one (``Call.dead_context``)."""
    if ctx is not None and backend.set_context(ctx):
        return _NO_RESULT
    if call.dead_context is not api.IN_FRONT_TAB:
        return call.dead_context
    backend.set_context(backend.front_context())
    return _NO_RESULT


_NO_RESULT = object()


def _backend_call(call: Call, backend: Backend, args: List[Any]) -> Any:
    result = getattr(backend, call.backend_name)(*args)
    return bool(result) if call.returns is Returns.BOOL else result


def _make_call_handler(call: Call) -> Handler:
    check = make_checker(call)
    twoway = call.traffic is not Traffic.ONEWAY

    if call.owner == "module":
        def handle(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Any:
            args = check(args)
            backend = sandbox.backend
            dead = _enter_context(backend, ctx, call)
            if dead is not _NO_RESULT:
                return dead
            return _backend_call(call, backend, args)
        return handle

    def handle_method(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Any:
        args = check(args)
        backend = sandbox.backend
        target, rest = args[0], args[1:]
        if call.sets_context:
            return _backend_call(call, backend, [target])
        if not backend.set_context(target):
            # As _hexchat.py: the notice goes to the current context, then
            # its context manager fails with "generator didn't yield".
            if ctx is not None and backend.set_context(ctx):
                backend.prnt(M.CLOSED_CONTEXT_NOTICE)
            if twoway:
                raise CallError("RuntimeError", "generator didn't yield")
            return None
        try:
            return _backend_call(call, backend, rest)
        finally:
            if ctx is not None:
                backend.set_context(ctx)

    return handle_method


def _make_hook_handler(call: Call) -> Handler:
    check = make_checker(call)

    def handle(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> Any:
        args = check(args)
        sandbox.register_hook(script, call, args[0], args[1:])
        return None

    return handle


def _unhook(sandbox: "Sandbox", script: "Script", ctx: Optional[int], args: List[Any]) -> None:
    if len(args) != 1:
        raise CallError("TypeError", "unhook() takes 1 wire argument")
    sandbox.remove_hook(script, _check_value(Kind.INT, args[0], "unhook"))


def build_handlers(calls: Sequence[Call] = api.CALLS) -> Dict[str, Handler]:
    """method name -> handler, for every row a worker may send."""
    handlers: Dict[str, Handler] = {}
    for call in calls:
        if call.traffic is Traffic.HOOK:
            handlers[call.wire_name] = _make_hook_handler(call)
        elif call.traffic is not Traffic.LOCAL:
            handlers[call.wire_name] = _make_call_handler(call)
    handlers["unhook"] = _unhook
    return handlers


HANDLERS: Dict[str, Handler] = build_handlers()
