"""The messages that cross a worker's pipe, as plain data.

Every message is a tuple whose first item is its kind.

Worker -> client (untrusted, checked by :func:`check_worker_message`):

* ``(REQUEST, call_id, method, ctx, args)`` -- a two-way API call; the client
  answers with ``REPLY`` or ``FAIL`` carrying the same ``call_id``.
* ``(NOTE, 0, method, ctx, args)`` -- a one-way call or a bookkeeping note
  (``loaded``, ``load_failed``, ``timer_done``, ``unloaded``).
* ``(REPLY, call_id, value)`` -- the answer to a client ``CALL`` or ``RUN``.
* ``(FAIL, call_id, message)`` -- a ``RUN`` or ``STACK`` that raised.

``ctx`` is the worker's current context handle (an int) or None before it
knows one; ``args`` is a list of plain values.

Client -> worker (trusted):

* ``(CALL, call_id, hook_id, ctx, args)`` -- run a hook callback now; the
  worker answers ``REPLY`` with the eat value. ``args`` = [word, word_eol, time].
* ``(FIRE, 0, hook_id, ctx, [])`` -- a timer is due; answered by a
  ``timer_done`` note saying whether to keep it.
* ``(REPLY, call_id, value)`` / ``(FAIL, call_id, [exc_type, message])`` --
  answers to the worker's requests.
* ``(UNLOAD,)`` -- run the unload hooks and exit.
* ``(RUN, call_id, payload)`` -- run a cloudpickled function (tests, tools).
* ``(STACK, call_id)`` -- answer with the Python stacks of all threads.
* ``(CTX_CLOSED, handle)`` -- that context was closed (HexChat's 'Close
  Context'), so one-way ``Context`` calls on it can fail at once, as in process.
"""

from __future__ import annotations

from typing import Any, Tuple

# Worker -> client
REQUEST = 1
NOTE = 2
REPLY = 3
FAIL = 4
# Client -> worker
CALL = 5
FIRE = 6
UNLOAD = 7
RUN = 8
STACK = 9
CTX_CLOSED = 10

#: What HexChat's Python module prints for a call on a closed context.
CLOSED_CONTEXT_NOTICE = "Context object refers to closed context, ignoring call"

#: Exception types a FAIL may ask the worker to raise (anything else -> RuntimeError).
RAISABLE = ("TypeError", "ValueError", "KeyError", "RuntimeError", "AttributeError")

_PLAIN_SCALARS = (str, int, float, bool, bytes, type(None))


class ProtocolError(ValueError):
    """A worker message of the wrong shape."""


def is_plain(value: Any, depth: int = 0) -> bool:
    """True if ``value`` is made only of JSON-like plain data (bounded depth)."""
    if isinstance(value, _PLAIN_SCALARS):
        return True
    if depth > 16:
        return False
    if isinstance(value, (list, tuple)):
        return all(is_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_plain(v, depth + 1) for k, v in value.items())
    return False


def check_worker_message(msg: Any) -> Tuple:
    """Validate the shape of a decoded worker message, or raise ProtocolError.

    Content (method names, argument types) is checked later by the dispatcher,
    which answers a bad call with an error instead of dropping the worker.
    """
    if not isinstance(msg, tuple) or not msg or not isinstance(msg[0], int):
        raise ProtocolError(f"not a message: {type(msg).__name__}")
    kind = msg[0]
    if kind in (REQUEST, NOTE):
        if len(msg) != 5:
            raise ProtocolError("call message needs 5 fields")
        _, call_id, method, ctx, args = msg
        if not isinstance(call_id, int) or isinstance(call_id, bool):
            raise ProtocolError("call id must be an int")
        if not isinstance(method, str):
            raise ProtocolError("method must be a str")
        if ctx is not None and (not isinstance(ctx, int) or isinstance(ctx, bool)):
            raise ProtocolError("context handle must be an int or None")
        if not isinstance(args, list):
            raise ProtocolError("args must be a list")
        return msg
    if kind in (REPLY, FAIL):
        if len(msg) != 3 or not isinstance(msg[1], int):
            raise ProtocolError("reply needs (kind, call_id, value)")
        return msg
    raise ProtocolError(f"unknown message kind {kind!r}")
