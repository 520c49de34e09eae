"""The interface between the sandbox client and whatever plays HexChat.

The client (``hexsandbox.client``) never talks to HexChat directly: it drives a
*backend*. Two backends exist and share this interface:

* ``hexsandbox.hexchat_backend.HexChatBackend`` runs inside HexChat's Python
  plugin and forwards every call to the real ``hexchat`` module, so its
  behaviour is HexChat's by construction.
* ``hexsandbox.emulator.Emulator`` is a headless model of HexChat for tests and
  CI.

Threading contract: every method except :meth:`Backend.call_soon` is called on
the backend's *main thread* only (HexChat's GTK thread, or the thread that
drives the emulator). ``call_soon`` is the one door in from other threads; it
must wake the main thread without polling.

Contexts cross this interface as integer *handles*. A handle is opaque to the
client; the backend alone can tell whether it still names an open context
(HexChat itself validates a context pointer the same way).
"""

from __future__ import annotations

from typing import Callable, List, Optional, Protocol, Union, runtime_checkable

#: A context handle: an int the backend hands out and later validates.
ContextHandle = int

#: Callback for command and server hooks: (word, word_eol, server_time) -> eat value.
#: ``server_time`` is the attrs variant's ``server_time_utc`` (0 when none).
WordCallback = Callable[[List[str], List[str], int], int]

#: Callback for timers: returns True to keep the timer, False to remove it.
TimerCallback = Callable[[], bool]

#: What a pluginpref can hold in HexChat's store.
PrefValue = Union[str, int]


@runtime_checkable
class Backend(Protocol):
    """What the sandbox client needs from HexChat (real or emulated)."""

    # ---- scheduling --------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the main thread as soon as it is idle.

        Thread-safe; may be called from any thread. Must wake the main thread
        (no steady polling). Callables run in the order they were queued.
        """

    # ---- contexts ----------------------------------------------------
    def get_context(self) -> ContextHandle:
        """The plugin's current context (what ``hexchat.get_context()`` sees)."""

    def set_context(self, ctx: ContextHandle) -> bool:
        """Make ``ctx`` current; False (and no change) if it no longer exists."""

    def context_alive(self, ctx: ContextHandle) -> bool:
        """Whether ``ctx`` still names an open context."""

    def front_context(self) -> ContextHandle:
        """The context of the tab the user is looking at (HexChat's current_sess)."""

    def find_context(self, server: Optional[str], channel: Optional[str]) -> Optional[ContextHandle]:
        """``hexchat_find_context`` semantics, preferring the current context's server."""

    # ---- calls that act on the current context -------------------------
    def prnt(self, text: str) -> None:
        """Print a line in the current context (does nothing if it is closed)."""

    def emit_print(self, event: str, args: List[str], time: int) -> int:
        """Emit a text event with up to four args; 1 if the event exists, else 0."""

    def command(self, text: str) -> None:
        """Run ``text`` as if typed with a leading '/' in the current context."""

    def nickcmp(self, a: str, b: str) -> int:
        """Compare nicks with the current server's casemapping."""

    def strip(self, text: str, length: int, flags: int) -> str:
        """``hexchat_strip``: bit 1 strips colours, bit 2 strips attributes."""

    def get_info(self, name: str) -> Optional[str]:
        """``hexchat.get_info``; None where HexChat returns NULL."""

    def get_prefs(self, name: str) -> Union[str, int, None]:
        """``hexchat.get_prefs``: str, int (bools as 0/1) or None."""

    def get_list(self, name: str) -> Optional[List[dict]]:
        """Rows of a HexChat list as dicts field -> value, in HexChat's field order.

        Field types follow hexchat-api.md section 2; the ``context`` field holds
        a :data:`ContextHandle`. Raises ``KeyError('list not available')`` for an
        unknown list, returns None where HexChat has no list.
        """

    # ---- hooks ---------------------------------------------------------
    # Every hook_* returns an opaque backend hook object accepted by unhook().
    # Callbacks run on the main thread with the current context already set to
    # the event's context, exactly when HexChat would run an in-process hook.
    def hook_command(self, name: str, priority: int, help: Optional[str],
                     callback: WordCallback) -> object:
        """Hook a command (name '' = typed text that is not a command)."""

    def hook_print(self, name: str, priority: int, callback: WordCallback,
                   with_attrs: bool) -> object:
        """Hook a text event. ``word_eol`` passed to the callback is already
        synthesised the way the Python plugin does it."""

    def hook_server(self, name: str, priority: int, callback: WordCallback,
                    with_attrs: bool) -> object:
        """Hook a server message ('RAW LINE' sees every line)."""

    def hook_timer(self, timeout_ms: int, callback: TimerCallback) -> object:
        """Call ``callback`` every ``timeout_ms`` until it returns False.

        The current context is set to :meth:`front_context` before each call.
        """

    def unhook(self, hook: object) -> None:
        """Remove a hook; safe during dispatch (it is not called again)."""

    # ---- pluginprefs (the Python plugin's shared store) -------------------
    def set_pluginpref(self, name: str, value: PrefValue) -> bool: ...

    def get_pluginpref(self, name: str) -> Optional[PrefValue]:
        """With the Python plugin's type guessing (see hexchat-api.md section 1)."""

    def del_pluginpref(self, name: str) -> bool: ...

    def list_pluginpref(self) -> List[str]: ...

    # ---- the Plugins and Scripts window ------------------------------------
    def plugingui_add(self, filename: str, name: str, description: str, version: str) -> object:
        """Show a script in the plugin list; returns a handle for plugingui_remove."""

    def plugingui_remove(self, handle: object) -> None: ...
