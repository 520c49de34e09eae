"""The hook round trip's fast path, both ends: one ``recv``, one decode,
nothing routed, queued or dispatched when the frame that comes is the one
awaited and nothing else is queued; anything else goes the general way
(:meth:`hexsandbox.rpc.session.Session.wait`).

Why a path of its own: every Python function call on the way costs 1-3 us
here with caches cold after each wake-up, and the general path made about
25 of them per side; this one makes about 8. Measured in docs/benchmarks.md,
"The hook's fast path". A mixin of ``Session``. A spinning owner
(``spin_us``) and a traced session (``HEXSANDBOX_TRACE``, which records
every message) always go the general way.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, List, Optional, Tuple, Union

from . import messages as M
from .trace import Trace

if TYPE_CHECKING:  # pragma: no cover
    from ..spinwait import SpinWaiter


class FastPaths:
    """See the module docstring."""

    if TYPE_CHECKING:  # provided by Session (and its Sending half)
        waiter: SpinWaiter
        trace: Optional[Trace]
        read_lock: threading.Lock
        owner_depth: int
        inbox: Deque[Any]
        immediate: Dict[str, Callable[[M.Message], bool]]
        _pending: Dict[int, Any]

        def send_request(self, method: str, ctx: Optional[int], args: List[Any],
                         waiter: Any = ...) -> int: ...
        def respond(self, msgid: int, error: Optional[List[str]], result: Any) -> None: ...
        def wait(self, msgid: Optional[int], timeout: Optional[float],
                 serve: Optional[Callable[[M.Message], None]] = None,
                 read_limit: int = 1024 * 1024) -> Optional[M.Message]: ...
        def _read_bytes(self, timeout: Optional[float], limit: int = ...) -> bytes: ...
        def _take_one(self, data: bytes,
                      wanted: Callable[[M.Message], bool]) -> Optional[M.Message]: ...
        def _owner_stops(self, left_behind: bool) -> None: ...

    def call(self, method: str, ctx: Optional[int], args: List[Any],
             timeout: Optional[float],
             serve: Optional[Callable[[M.Message], None]] = None) -> Tuple[int, Optional[M.Response]]:
        """Owner: :meth:`send_request`, then :meth:`wait` for its answer.
        Returns the msgid (for :meth:`abandon`) and the answer, or None."""
        msgid = self.send_request(method, ctx, args)
        if self.waiter.enabled or self.trace is not None:
            return msgid, self.wait(msgid, timeout, serve)  # type: ignore[return-value]
        end = None if timeout is None else time.monotonic() + timeout
        with self.read_lock:
            self.owner_depth += 1
            # Checked with the socket ours: a background reader may have
            # queued what the peer sent before the answer.
            queued = bool(self.inbox)
        try:
            data = b"" if queued else self._read_bytes(timeout)
            msg = self._take_one(data, lambda m: type(m) is M.Response and m.msgid == msgid) \
                if data else None
            if msg is not None:
                with self.read_lock:
                    self._pending.pop(msgid, None)
                return msgid, msg  # type: ignore[return-value]
            remaining = None if end is None else max(0.0, end - time.monotonic())
            return msgid, self.wait(msgid, remaining, serve)  # type: ignore[return-value]
        finally:
            self._owner_stops(left_behind=True)

    def next_or_serve(self, method: str,
                      serve: Callable[[Optional[int], List[Any]], Any]) -> Union[M.Message, None, bool]:
        """Owner, idle: the next message, as ``wait(None, None)`` -- except
        that a ``method`` request that comes alone while nothing is queued
        is answered here, with ``serve(ctx, args)`` as the result (the owner
        is away from the socket meanwhile, as in ``yield_while_serving``),
        and True is returned."""
        if self.waiter.enabled or self.trace is not None:
            return self.wait(None, None)
        with self.read_lock:
            self.owner_depth += 1
            queued = bool(self.inbox)  # see call()
        try:
            data = b"" if queued else self._read_bytes(None)
            msg = self._take_one(data, lambda m: type(m) is M.Request and m.method == method) \
                if data else None
            if isinstance(msg, M.Request):
                handler = self.immediate.get(method)
                if handler is None or handler(msg):
                    self._owner_stops(left_behind=False)
                    try:
                        result = serve(msg.ctx, msg.args)
                    finally:
                        with self.read_lock:
                            self.owner_depth += 1
                    self.respond(msg.msgid, None, result)
                return True
        finally:
            self._owner_stops(left_behind=True)
        return self.wait(None, None)
