"""Hook forwarding: backend hooks that stand for a worker's callbacks.

When a script registers a hook, the worker keeps the callback and tells the
client (one-way); :meth:`HookForwarding.register_hook` registers a backend
hook whose callback forwards each event to the worker as a ``hook`` request
and waits for the eat value on HexChat's main thread, at most the script's
deadline, serving the worker's own calls meanwhile (nested calls). Timers
are ``timer`` notifications: HexChat never waits for them.

What a hook kind sends is a row field of the API table (``Call.hook`` and
the row's wire parameters), so this module has no per-name cases beyond the
four backend hook families.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, List, Optional

from .. import slow_policy
from ..api_table import Call
from ..rpc import messages as M
from ..rpc.session import SessionClosed
from .records import Script, State

if TYPE_CHECKING:  # pragma: no cover
    from ..backend import Backend


#: ``send_request`` waiter for a hook delivered one-way: nobody waits, so
#: its answer reaches the inbox as a stray response (``_late_reply`` times it).
_ONE_WAY = None

#: An asynchronous script's events go in one ``events`` notification per
#: main-loop turn, or per this many events in a longer burst (~25 KB of
#: channel messages: one write, one decode, one wakeup of the worker).
EVENTS_PER_BATCH = 128


class HookForwarding:
    """Mixed into :class:`hexsandbox.sandbox.core.Sandbox` (main thread only)."""

    backend: "Backend"
    scripts: List[Script]

    if TYPE_CHECKING:  # provided by the Sandbox (the other mixins or core)
        def report(self, script: Script, kind: str, text: str) -> None:  # pragma: no cover
            raise NotImplementedError

        def _handle(self, script: Script, msg: M.Message) -> None:  # pragma: no cover
            raise NotImplementedError

        def _drop_broken(self, script: Script) -> None:  # pragma: no cover
            raise NotImplementedError

        def _reap_if_ended(self, script: Script, timeout: float) -> None:  # pragma: no cover
            raise NotImplementedError

    # ------------------------------------------------------------- hooks
    def register_hook(self, script: Script, call: Call, hook_id: int, args: List[Any]) -> None:
        """Register a backend hook that forwards to the worker's callback."""
        if script.state not in (State.STARTING, State.RUNNING) or hook_id in script.backend_hooks:
            return
        backend = self.backend
        kind = call.hook

        def forward(word: List[str], word_eol: List[str], server_time: int) -> int:
            return self.call_hook(script, hook_id, word, word_eol, server_time)

        if kind == "command":
            name, priority, help_text = args
            handle = backend.hook_command(name, priority, help_text, forward)
        elif kind == "print":
            name, priority = args
            handle = backend.hook_print(name, priority, forward, call.with_attrs)
        elif kind == "server":
            name, priority = args
            handle = backend.hook_server(name, priority, forward, call.with_attrs)
        else:  # timer
            name = f"timer {args[0]} ms"
            handle = backend.hook_timer(max(0, args[0]), lambda: self._fire_timer(script, hook_id))
        script.backend_hooks[hook_id] = handle
        script.hook_names[hook_id] = f"{kind} {name!r}" if kind != "timer" else name

    def remove_hook(self, script: Script, hook_id: int) -> None:
        handle = script.backend_hooks.pop(hook_id, None)
        script.hook_names.pop(hook_id, None)
        script.timers_due.discard(hook_id)
        if handle is not None:
            self.backend.unhook(handle)

    def _drop_hooks(self, script: Script) -> None:
        for hook_id in list(script.backend_hooks):
            self.remove_hook(script, hook_id)
        if script.gui is not None:
            self.backend.plugingui_remove(script.gui)
            script.gui = None

    def call_hook(self, script: Script, hook_id: int, word: List[str], word_eol: List[str],
                  server_time: int) -> int:
        """A hook fired in HexChat: ask the worker, wait at most its deadline.

        Public so that tools (benchmarks) can call a hook exactly as HexChat does.
        """
        session = script.session
        if script.dead or session is None or script.state not in (State.STARTING, State.RUNNING):
            return 0
        ctx = self.backend.get_context()
        if script.hooks_async:
            # ``hooks = async``: never waited on, and never timed either
            # (lateness does not exist for such a script).
            self._hold_event(script, session, [hook_id, ctx, word, word_eol, server_time])
            return 0
        params = [hook_id, word, word_eol, server_time]
        now = time.monotonic()
        if script.late or not script.slow.should_wait(now, script.deadline_ms / 1000.0):
            # Not waited on (slow_policy), but its answer is still timed.
            if script.slow.can_send_one_way():
                msgid = self._deliver_uneaten(script, session, ctx, params)
                if msgid is not None:
                    script.slow.sent_one_way(msgid, now)
            else:
                script.missed_events += 1
            return 0
        try:
            msgid, reply = session.call(M.HOOK, ctx, params, script.deadline_ms / 1000.0,
                                        lambda msg: self._handle(script, msg))
        except SessionClosed:
            if session.broken:
                self._drop_broken(script)
            return 0
        end = now + script.deadline_ms / 1000.0
        if reply is None:
            session.abandon(msgid)
            if session.broken:
                self._drop_broken(script)
            elif session.eof:
                self._reap_if_ended(script, end - time.monotonic())
            elif not script.dead and session.alive:
                self._mark_late(script, msgid, script.hook_names.get(hook_id, "a hook"))
            return 0
        assert isinstance(reply, M.Response)
        value = reply.result if reply.error is None else 0
        return value if type(value) is int and 0 <= value <= 3 else 0

    def _deliver_uneaten(self, script: Script, session: Any, ctx: Optional[int],
                         params: List[Any]) -> Optional[int]:
        """Send a hook event nobody waits for (a slow script's, slow_policy):
        its eat value is ignored when it comes, so the event passes uneaten.
        It is dropped, and counted, only when the worker has stopped reading
        its socket, so HexChat never blocks on it. The request id, or None
        if dropped."""
        if slow_policy.room_to_send(session.fd):
            try:
                return session.send_request(M.HOOK, ctx, params, waiter=_ONE_WAY)
            except SessionClosed:
                pass
        script.missed_events += 1
        return None

    def _hold_event(self, script: Script, session: Any, event: List[Any]) -> None:
        """An asynchronous script's event joins the batch sent at the end of
        this main-loop turn (or when it is full). The session writes a held
        batch before anything else it sends, so events stay in order with
        timers, unload and the answers to the script's own calls."""
        try:
            held = session.hold(M.EVENTS, event)
        except SessionClosed:
            return
        if held == 1:
            self.backend.call_soon(lambda: self._release_events(script))
        elif held >= EVENTS_PER_BATCH:
            self._release_events(script)

    def _release_events(self, script: Script) -> None:
        """Send the held batch, or drop and count it when the worker has
        stopped reading its socket, so HexChat never blocks on it."""
        session = script.session
        if session is None or not session.held:
            return
        if not slow_policy.room_to_send(session.fd):
            script.missed_events += session.drop_held()
            return
        try:
            session.release()
        except SessionClosed:
            if session.broken:
                self._drop_broken(script)

    def _mark_late(self, script: Script, msgid: int, what: str) -> None:
        script.late_call = msgid
        script.late_since = time.monotonic()
        script.late_count += 1
        script.slow.stalled(script.late_since)
        keep_up = f"{slow_policy.KEEP_UP_S:.0f} s"
        self.report(script, "late",
                    f"hexsandbox: {script.label} did not answer {what} within "
                    f"{script.deadline_ms} ms; HexChat no longer waits for it (its hooks still "
                    f"run, uneaten) until it keeps up for {keep_up} or /sandbox restart "
                    f"{script.label}. /sandbox stack {script.label} shows where it is stuck.")

    def _late_reply(self, script: Script, reply: M.Response) -> None:
        """A response nobody waits for: the answer to a one-way delivery
        (timed by slow_policy), or the late hook's answer."""
        now = time.monotonic()
        if script.slow.answered(reply.msgid, now, script.deadline_ms / 1000.0):
            return  # a one-way delivery: its eat value no longer matters
        if script.late_call is not None and reply.msgid == script.late_call:
            # Back, but not waited on until it keeps up (slow_policy); the
            # user was told once, at the stall.
            script.late_call = None
            script.slow.late_answer(now)

    def _fire_timer(self, script: Script, hook_id: int) -> bool:
        """A timer is due. Timers do not eat anything, so HexChat does not
        wait: the worker answers with a ``timer_done`` note. A timer whose
        last run has not finished is not fired again (no pile-up)."""
        session = script.session
        if script.dead or session is None or hook_id not in script.backend_hooks:
            return False
        if hook_id not in script.timers_due:
            script.timers_due.add(hook_id)
            self._notify(script, M.TIMER, self.backend.get_context(), [hook_id])
        return True

    def _context_closed(self, word: List[str], word_eol: List[str], server_time: int) -> int:
        handle = self.backend.get_context()  # HexChat runs the hook in the closing context
        for script in self.scripts:
            if not script.dead:
                self._notify(script, M.CONTEXT_CLOSED, handle, [])
        return 0

    def _notify(self, script: Script, method: str, ctx: Optional[int], args: List[Any]) -> bool:
        """A client -> worker notification; False if the worker is gone."""
        session = script.session
        if script.dead or session is None:
            return False
        try:
            session.notify_unwindowed(method, ctx, args)
            return True
        except SessionClosed:
            return False

