"""HexChat hooks registered through the Python plugin's cffi binding.

Why not ``hexchat.hook_print`` and ``hexchat.unhook``: in HexChat 2.16 each
``hook_*`` and ``unhook`` of the ``hexchat`` module first finds the calling
script with ``inspect.stack()``, which describes *every* frame of the Python
stack (a stat of its file, its source lines, a walk over ``sys.modules``).
On HexChat's main thread that measured 4-70 ms per call (more on a loaded
machine: it is CPU work plus system calls that give up the GIL), and the
sandbox makes such calls for every script and application that hooks or
unhooks anything. Twenty applications connecting in a loop (issue 11's
soak) made those two calls most of the main thread's time, with main-loop
gaps over 100 ms (docs/remote.md, "Measured").

So the sandbox calls the same C functions (``hexchat_hook_print`` ...) with
the same C callbacks the ``hexchat`` module passes (``lib._on_print_hook``
...), giving them a registration object with the fields those callbacks
read (``callback``, ``userdata``; for timers ``plugin.hooks`` and
``is_unload``). HexChat, and the word lists the callbacks build, are then
exactly as with ``hexchat.hook_print``; only the stack walk is gone.

The hooks belong to the Python plugin (``lib.ph``), not to the loader
script, so HexChat would not remove them when the loader unloads:
:meth:`DirectHooks.close` does (the backend's ``close``), and until then
every registration is kept alive here (C holds a pointer to it).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Set

#: The binding's callbacks these hooks use (HexChat 2.16's python plugin).
_CALLBACKS = ("_on_command_hook", "_on_print_hook", "_on_print_attrs_hook",
              "_on_server_hook", "_on_server_attrs_hook", "_on_timer_hook")


class _NoHooks:
    """``_on_timer_hook`` removes an ended timer from ``hook.plugin.hooks``;
    ours are tracked by :class:`DirectHooks` instead."""

    hooks = ()


class Registration:
    """One hook: what the binding's callback reads, and HexChat's pointer."""

    plugin = _NoHooks()

    def __init__(self, ffi: Any, callback: Callable[..., Any]) -> None:
        self.callback = callback
        self.userdata = None
        self.is_unload = False      # set by _on_timer_hook when a timer ends
        self.hexchat_hook: Any = None
        self.handle = ffi.new_handle(self)


class DirectHooks:
    """Registers and removes hooks without the ``hexchat`` module's stack walk.

    Main thread only, like every HexChat call."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi, self.lib = ffi, lib
        self._live: Set[Registration] = set()

    @staticmethod
    def available(lib: Any) -> bool:
        return all(hasattr(lib, name) for name in _CALLBACKS)

    def _add(self, reg: Registration, hexchat_hook: Any) -> Registration:
        reg.hexchat_hook = hexchat_hook
        self._live.add(reg)
        return reg

    def command(self, name: str, priority: int, help: Optional[str],
                callback: Callable[[Any, Any, Any], Any]) -> Registration:
        reg = Registration(self.ffi, callback)
        text = help.encode() if help is not None else self.ffi.NULL
        return self._add(reg, self.lib.hexchat_hook_command(
            self.lib.ph, name.encode(), priority, self.lib._on_command_hook, text, reg.handle))

    def print_(self, name: str, priority: int, callback: Callable[..., Any],
               with_attrs: bool) -> Registration:
        return self._word("print", name, priority, callback, with_attrs)

    def server(self, name: str, priority: int, callback: Callable[..., Any],
               with_attrs: bool) -> Registration:
        return self._word("server", name, priority, callback, with_attrs)

    def _word(self, kind: str, name: str, priority: int, callback: Callable[..., Any],
              with_attrs: bool) -> Registration:
        """``hexchat_hook_print[_attrs]`` or ``hexchat_hook_server[_attrs]``,
        with the binding's matching callback."""
        suffix = "_attrs" if with_attrs else ""
        hook = getattr(self.lib, f"hexchat_hook_{kind}{suffix}")
        c_callback = getattr(self.lib, f"_on_{kind}{suffix}_hook")
        reg = Registration(self.ffi, callback)
        return self._add(reg, hook(self.lib.ph, name.encode(), priority, c_callback, reg.handle))

    def timer(self, timeout_ms: int, callback: Callable[[], bool]) -> Registration:
        """A timer that returns False (or raises) is removed by HexChat
        itself; it is forgotten here at once, so that no later ``unhook``
        reaches a hook HexChat has freed."""
        def fire(_userdata: Any) -> bool:
            keep = False
            try:
                keep = bool(callback())
            finally:
                if not keep:
                    self._live.discard(reg)
            return keep

        reg = Registration(self.ffi, fire)
        return self._add(reg, self.lib.hexchat_hook_timer(
            self.lib.ph, timeout_ms, self.lib._on_timer_hook, reg.handle))

    def unhook(self, reg: Registration) -> None:
        """Remove a hook; one already removed (or an ended timer) is left alone."""
        if reg in self._live:
            self._live.discard(reg)
            self.lib.hexchat_unhook(self.lib.ph, reg.hexchat_hook)

    def close(self) -> None:
        """Remove every hook still registered (the loader unloads)."""
        for reg in list(self._live):
            self.unhook(reg)

    def __len__(self) -> int:
        return len(self._live)
