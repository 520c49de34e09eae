"""The three message kinds of msgpack-RPC, and this protocol's own methods.

Shapes (as Neovim's msgpack-RPC):

* request      ``[0, msgid, method, params]`` -- answered by one response;
* response     ``[1, msgid, error, result]`` -- ``error`` is None or
  ``[exception_type, message]``;
* notification ``[2, method, params]`` -- never answered.

``params`` is always an array whose first element is a context handle (an
int, or None): for calls from a worker, the worker's current context; for
calls to a worker, the context the event happened in. The rest are the
method's own parameters. Keeping the handle in a fixed place lets both sides
switch context before they look at the method (see docs/protocol.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Union


#: The kinds, as on the wire (plain ints: an IntEnum member is a slower
#: lookup and compare on the hot path).
REQUEST, RESPONSE, NOTIFICATION = 0, 1, 2
_MSGID_END = 2 ** 32

# Slotted, not frozen: a frozen dataclass sets each field through
# object.__setattr__, and every hook round trip builds two of these.
# (``__slots__`` by hand: ``dataclass(slots=True)`` needs Python 3.10.)


@dataclass
class Request:
    __slots__ = ("msgid", "method", "ctx", "args")
    msgid: int
    method: str
    ctx: Optional[int]
    args: List[Any]


@dataclass
class Response:
    __slots__ = ("msgid", "error", "result")
    msgid: int
    error: Optional[List[str]]
    result: Any


@dataclass
class Notification:
    __slots__ = ("method", "ctx", "args")
    method: str
    ctx: Optional[int]
    args: List[Any]


Message = Union[Request, Response, Notification]


class ProtocolError(ValueError):
    """A decoded message of the wrong shape."""


def _context(params: Any, method: Any) -> Optional[int]:
    """The context handle that starts ``params`` (and ``method`` checked)."""
    if type(method) is not str:
        raise ProtocolError("method must be a string")
    if type(params) is not list or not params or (params[0] is not None
                                                  and type(params[0]) is not int):
        raise ProtocolError("params must be an array starting with the context handle, "
                            "an int or nil")
    return params[0]


def parse(msg: Any) -> Message:
    """A checked message from decoded plain data, or ProtocolError.

    Only the shape is checked here; method names and argument types are
    checked by whoever serves the call, which answers a bad call with an
    error response instead of dropping the peer.
    """
    if type(msg) is not list or not msg:
        raise ProtocolError(f"not a message: {type(msg).__name__}")
    kind = msg[0]
    size = len(msg)
    if kind == REQUEST and type(kind) is int:
        if size != 4:
            raise ProtocolError("a request has 4 elements")
        _, msgid, method, params = msg
        if type(msgid) is not int or not 0 <= msgid < _MSGID_END:
            raise ProtocolError("msgid must be an unsigned 32-bit int")
        return Request(msgid, method, _context(params, method), params[1:])
    if kind == RESPONSE and type(kind) is int:
        if size != 4:
            raise ProtocolError("a response has 4 elements")
        _, msgid, error, result = msg
        if type(msgid) is not int:
            raise ProtocolError("msgid must be an int")
        if error is not None and not (type(error) is list and len(error) == 2
                                      and type(error[0]) is str and type(error[1]) is str):
            raise ProtocolError("error must be nil or [type, message]")
        return Response(msgid, error, result)
    if kind == NOTIFICATION and type(kind) is int:
        if size != 3:
            raise ProtocolError("a notification has 3 elements")
        _, method, params = msg
        return Notification(method, _context(params, method), params[1:])
    if type(kind) is not int:
        raise ProtocolError(f"not a message: {type(msg).__name__}")
    raise ProtocolError(f"unknown message kind {kind!r}")


def request(msgid: int, method: str, ctx: Optional[int], args: List[Any]) -> list:
    return [REQUEST, msgid, method, [ctx, *args]]


def response(msgid: int, error: Optional[List[str]], result: Any) -> list:
    return [RESPONSE, msgid, error, result]


def notification(method: str, ctx: Optional[int], args: List[Any]) -> list:
    return [NOTIFICATION, method, [ctx, *args]]


# ---- the session's own methods (the API's are in hexsandbox.api_table) -------

#: client -> worker
HOOK = "hook"                      # request: run a hook callback, answer its eat value
TIMER = "timer"                    # notification: a timer is due
EVENTS = "events"                  # notification: a batch of one-way hook events (async hooks)
UNLOAD = "unload"                  # notification: run unload hooks and exit
RUN = "run"                        # request: run a cloudpickled function (tools, tests)
STACK = "stack"                    # request: the Python stacks of all threads
CONTEXT_CLOSED = "context_closed"  # notification: this context was closed
ACK = "ack"                        # notification: this many one-way calls were consumed

#: What HexChat's Python module prints for a call on a closed context.
CLOSED_CONTEXT_NOTICE = "Context object refers to closed context, ignoring call"

#: Exception types an error response may ask the worker to raise
#: (anything else is raised as RuntimeError).
RAISABLE = ("TypeError", "ValueError", "KeyError", "RuntimeError", "AttributeError")
