"""The :class:`~hexsandbox.backend.Backend` that is real HexChat.

Runs inside HexChat's Python plugin (``hexchat-python3``) and forwards every
call to the real ``hexchat`` module, so sandboxed scripts see exactly what
in-process scripts see: the same word lists, the same pluginpref store
(``addon_python.conf``) and type guessing, the same context rules.

What the ``hexchat`` module does not offer comes from the plugin's cffi
binding ``_hexchat_embedded``: context pointers as integers (our handles), the
Plugins and Scripts window entries, hooks without the module's stack walk
(:mod:`.hexchat_hooks`), and ``hexchat_hook_fd`` to wake HexChat's
main thread when a worker has sent something (measured ~10 us). If that is
missing, GLib's ``g_idle_add`` through ctypes does the same; a 20 ms timer is
the last resort, and ``/sandbox status`` says which is in use.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import os
import threading
import time
from typing import Any, Callable, Deque, List, Optional

from .backend import ContextHandle, PrefValue, TimerCallback, WordCallback
from .config import WAKEUPS
from .hexchat_hooks import DirectHooks, Registration

#: hexchat_hook_fd flags: HEXCHAT_FD_READ
_FD_READ = 1

#: Queued work run per main-loop turn before HexChat gets the loop back.
RUN_BUDGET_S = 0.010


class HexChatBackend:
    """Backend over the live ``hexchat`` module; main-thread only except
    :meth:`call_soon`."""

    def __init__(self, hexchat: Any, wakeup: str = "auto") -> None:
        from _hexchat_embedded import ffi, lib  # only exists inside HexChat

        self.hc = hexchat
        self.ffi, self.lib = ffi, lib
        # Hooks go through the binding, not hexchat.hook_*: that one walks
        # the whole Python stack with inspect for every hook and unhook
        # (hexchat_hooks.py). close() removes what is left.
        self._hooks = DirectHooks(ffi, lib)
        self._work: Deque[Callable[[], None]] = collections.deque()
        self._lock = threading.Lock()
        self._wake_pending = False
        self._fd_hook: Any = None
        self.wakeup = self._install_wakeup(wakeup)

    # ------------------------------------------------------------- wake-up
    def _install_wakeup(self, preferred: str) -> str:
        """The best wake-up that works, starting at ``preferred`` (see
        ``Settings.wakeup``); an unknown name counts as "auto"."""
        start = WAKEUPS.index(preferred) if preferred in WAKEUPS else 0
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        # setting name -> (what /sandbox status calls it, how to install it)
        event_driven = {"hook_fd": ("hexchat_hook_fd", self._try_hook_fd),
                        "g_idle_add": ("g_idle_add", self._try_g_idle_add)}
        for name in WAKEUPS[start:]:
            if name in event_driven and event_driven[name][1]():
                return event_driven[name][0]
        self._hooks.timer(20, self._run_work_keep)
        forced = " (as hexsandbox.ini asks)" if preferred == "timer" else ": no event-driven wake-up was available"
        return f"timer (20 ms polling{forced})"

    def _try_hook_fd(self) -> bool:
        try:
            self._fd_cb = self.ffi.callback("int(int, int, void *)", self._on_fd)
            self._fd_hook = self.lib.hexchat_hook_fd(self.lib.ph, self._r, _FD_READ,
                                                    self._fd_cb, self.ffi.NULL)
            if self._fd_hook != self.ffi.NULL:
                return True
        except (AttributeError, TypeError):
            pass
        return False

    def _try_g_idle_add(self) -> bool:
        glib_name = ctypes.util.find_library("glib-2.0") or "libglib-2.0.so.0"
        try:
            glib = ctypes.CDLL(glib_name)
            source_func = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
            self._idle_cb = source_func(self._run_work_once)
            self._g_idle_add = glib.g_idle_add
            self._g_idle_add.argtypes = [source_func, ctypes.c_void_p]
            return True
        except (OSError, AttributeError):
            return False

    def call_soon(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._work.append(fn)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._wake()

    def _wake(self) -> None:
        """Have the main loop call ``_run_work`` soon (the timer fallback
        needs nothing: its next tick runs it)."""
        if self.wakeup == "hexchat_hook_fd":
            os.write(self._w, b"\0")
        elif self.wakeup == "g_idle_add":
            self._g_idle_add(self._idle_cb, None)

    def _on_fd(self, fd: int, flags: int, userdata: Any) -> int:
        try:
            os.read(self._r, 4096)
        except BlockingIOError:
            pass
        self._run_work()
        return 1  # keep the fd hook

    def _run_work_keep(self) -> bool:
        """The timer fallback: run the work, keep the timer."""
        self._run_work()
        return True

    def _run_work_once(self, _data: Any) -> int:
        """The g_idle_add source: run the work, remove the source."""
        self._run_work()
        return 0

    def _run_work(self) -> None:
        """Run queued work, at most ``RUN_BUDGET_S`` per main-loop turn: a
        burst (twenty applications connecting at once) must not hold the
        loop; what is left runs first at the next turn, in order."""
        with self._lock:
            self._wake_pending = False
            work, self._work = self._work, collections.deque()
        end = time.monotonic() + RUN_BUDGET_S
        while work:
            fn = work.popleft()
            try:
                fn()
            except Exception as exc:  # never let one item break the wake-up
                self.hc.prnt(f"hexsandbox: internal error: {exc!r}")
            if work and time.monotonic() > end:
                with self._lock:
                    work.extend(self._work)
                    self._work = work
                    rearm = not self._wake_pending
                    self._wake_pending = True
                if rearm:
                    self._wake()
                return

    def close(self) -> None:
        self._hooks.close()
        if self._fd_hook is not None and self._fd_hook != self.ffi.NULL:
            self.lib.hexchat_unhook(self.lib.ph, self._fd_hook)
            self._fd_hook = None
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass

    # ------------------------------------------------------------ contexts
    def _handle(self, ptr: Any) -> Optional[ContextHandle]:
        if ptr == self.ffi.NULL:
            return None
        return int(self.ffi.cast("uintptr_t", ptr))

    def _ptr(self, handle: ContextHandle) -> Any:
        return self.ffi.cast("hexchat_context *", handle)

    def get_context(self) -> ContextHandle:
        return self._handle(self.lib.hexchat_get_context(self.lib.ph)) or 0

    def set_context(self, ctx: ContextHandle) -> bool:
        return bool(self.lib.hexchat_set_context(self.lib.ph, self._ptr(ctx)))

    def context_alive(self, ctx: ContextHandle) -> bool:
        current = self.lib.hexchat_get_context(self.lib.ph)
        alive = self.set_context(ctx)
        self.lib.hexchat_set_context(self.lib.ph, current)
        return alive

    def front_context(self) -> ContextHandle:
        return self._handle(self.lib.hexchat_find_context(self.lib.ph, self.ffi.NULL,
                                                          self.ffi.NULL)) or 0

    def find_context(self, server: Optional[str], channel: Optional[str]) -> Optional[ContextHandle]:
        s = server.encode() if server is not None else self.ffi.NULL
        c = channel.encode() if channel is not None else self.ffi.NULL
        return self._handle(self.lib.hexchat_find_context(self.lib.ph, s, c))

    # --------------------------------------------------------------- calls
    def prnt(self, text: str) -> None:
        self.hc.prnt(text)

    def emit_print(self, event: str, args: List[str], time: int) -> int:
        return self.hc.emit_print(event, *args, time=time)

    def command(self, text: str) -> None:
        self.hc.command(text)

    def nickcmp(self, a: str, b: str) -> int:
        return self.hc.nickcmp(a, b)

    def strip(self, text: str, length: int, flags: int) -> str:
        return self.hc.strip(text, length, flags)

    def get_info(self, name: str) -> Optional[str]:
        return self.hc.get_info(name)

    def get_prefs(self, name: str) -> Any:
        return self.hc.get_prefs(name)

    def get_list(self, name: str) -> Optional[List[dict]]:
        items = self.hc.get_list(name)
        if items is None:
            return None
        rows = []
        for item in items:
            row = {}
            for field, value in vars(item).items():
                if field == "_listname":
                    continue
                if field == "context":
                    value = self._handle(value._ctx)
                row[field] = value
            rows.append(row)
        return rows

    # --------------------------------------------------------------- hooks
    def hook_command(self, name: str, priority: int, help: Optional[str],
                     callback: WordCallback) -> object:
        return self._hooks.command(name, priority, help, lambda w, we, _ud: callback(w, we, 0))

    def hook_print(self, name: str, priority: int, callback: WordCallback,
                   with_attrs: bool) -> object:
        return self._hooks.print_(name, priority, _word_callback(callback, with_attrs), with_attrs)

    def hook_server(self, name: str, priority: int, callback: WordCallback,
                    with_attrs: bool) -> object:
        return self._hooks.server(name, priority, _word_callback(callback, with_attrs), with_attrs)

    def hook_timer(self, timeout_ms: int, callback: TimerCallback) -> object:
        return self._hooks.timer(timeout_ms, callback)

    def unhook(self, hook: object) -> None:
        assert isinstance(hook, Registration)
        self._hooks.unhook(hook)

    # ---------------------------------------------------------- pluginprefs
    def set_pluginpref(self, name: str, value: PrefValue) -> bool:
        return self.hc.set_pluginpref(name, value)

    def get_pluginpref(self, name: str) -> Optional[PrefValue]:
        return self.hc.get_pluginpref(name)

    def del_pluginpref(self, name: str) -> bool:
        return self.hc.del_pluginpref(name)

    def list_pluginpref(self) -> List[str]:
        return self.hc.list_pluginpref()

    # ----------------------------------------------------------- plugin GUI
    def plugingui_add(self, filename: str, name: str, description: str, version: str) -> object:
        return self.lib.hexchat_plugingui_add(self.lib.ph, filename.encode(), name.encode(),
                                              description.encode(), version.encode(),
                                              self.ffi.NULL)

    def plugingui_remove(self, handle: object) -> None:
        self.lib.hexchat_plugingui_remove(self.lib.ph, handle)


def _word_callback(callback: WordCallback, with_attrs: bool) -> Callable[..., Any]:
    """``*_attrs`` hooks pass the server time on; the others pass 0."""
    if with_attrs:
        return lambda w, we, _ud, attrs: callback(w, we, attrs.time)
    return lambda w, we, _ud: callback(w, we, 0)
