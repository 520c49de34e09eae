"""The one table that describes HexChat 2.16's Python API.

Both sides of the sandbox are generated from this table:

* ``hexsandbox.proxy`` builds the worker-side ``hexchat``/``xchat`` module
  (signatures, argument checks, how each call travels);
* ``hexsandbox.dispatch`` builds the client-side dispatch table (which backend
  method serves a request, how arguments from an untrusted worker are checked,
  how results are encoded).

Adding an API name is one row here. The reference is HexChat's own
``plugins/python/_hexchat.py`` (Debian ``hexchat-python3`` 2.16.1).

How a call travels (``Traffic``):

* ``ONEWAY``   -- nothing to wait for (``prnt``); pipelined, kept in order.
* ``REENTRANT`` -- returns nothing but may fire hooks (``command``). Two-way
  when called from the script's callback thread, so hooks it fires run nested
  before it returns, exactly as in process; one-way from any other thread.
* ``TWOWAY``   -- has a result; the calling thread waits for it.
* ``HOOK``     -- the callback and userdata stay in the worker; the client is
  told (one-way) to register a backend hook that forwards events.
* ``LOCAL``    -- answered in the worker without a message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Dict, Optional, Tuple


class Traffic(enum.Enum):
    ONEWAY = "oneway"
    REENTRANT = "reentrant"
    TWOWAY = "twoway"
    HOOK = "hook"
    LOCAL = "local"


class Kind(enum.Enum):
    """Type of a parameter, checked on both sides of the pipe."""

    STR = "str"            # must be str (in process: calls .encode())
    OPT_STR = "opt_str"    # str or None
    INT = "int"            # int (bool is an int, as in process)
    ANY = "any"            # stays in the worker (callbacks, userdata)
    VALUE = "value"        # a pluginpref value: checked by the call itself


class Returns(enum.Enum):
    """What a call answers, and so how the worker rebuilds it."""

    NONE = "none"
    INT = "int"
    STR = "str"
    OPT_STR = "opt_str"
    BOOL = "bool"
    PREF = "pref"                # str | int | None
    PREFS = "prefs"              # get_prefs: str | int | None
    CONTEXT = "context"          # a context handle -> Context
    OPT_CONTEXT = "opt_context"  # handle or None -> Context or None
    LIST = "list"                # list of row dicts -> ListItems, or None
    STR_LIST = "str_list"
    HOOK_ID = "hook_id"
    USERDATA = "userdata"


class _Required:
    """The "no default" marker; pickles as itself, so rows can be sent to
    a worker (``Sandbox(extra_calls=...)``)."""

    def __repr__(self) -> str:
        return "<required>"

    def __reduce__(self) -> str:
        return "_REQUIRED"


_REQUIRED = _Required()

#: ``Call.dead_context`` default: run the call in the front tab instead.
IN_FRONT_TAB = "in front tab"


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    default: object = _REQUIRED
    #: False for callback/userdata: never sent over the pipe.
    wire: bool = True

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class Call:
    """One callable of the API (a module function or a ``Context`` method)."""

    name: str
    params: Tuple[Param, ...]
    traffic: Traffic
    returns: Returns
    doc: str
    #: 'module' or 'Context'. Context methods carry the target context handle.
    owner: str = "module"
    #: ``emit_print``'s ``*args``: at most four strings, missing ones are ''.
    varargs: Optional[str] = None
    #: keyword-only parameters (``time=0`` of emit_print).
    kwonly: Tuple[Param, ...] = ()
    #: For hooks: which backend hook family (``hook_<family>`` on the
    #: backend), and whether it passes attrs.
    hook: Optional[str] = None
    with_attrs: bool = False
    #: Module calls: what the call answers when the script's current context
    #: is closed. HexChat itself does nothing for prnt/command/get_info/
    #: emit_print (it checks ``is_session``); every other call would make
    #: in-process HexChat use the dead context, so those run in the front
    #: tab instead (IN_FRONT_TAB).
    dead_context: object = IN_FRONT_TAB
    #: The backend method that serves the call (default: the row's name).
    backend_method: Optional[str] = None
    #: A true result makes the target the script's current context (Context.set).
    sets_context: bool = False
    #: LOCAL rows: the body of the worker-side function (Python source).
    local_body: Optional[str] = None

    @property
    def backend_name(self) -> str:
        return self.backend_method or self.name

    @property
    def wire_params(self) -> Tuple[Param, ...]:
        """The parameters that travel, in order (callbacks and userdata stay)."""
        return tuple(p for p in self.params if p.wire)

    @property
    def wire_name(self) -> str:
        """The method name used in messages (``Context.prnt`` for methods)."""
        return self.name if self.owner == "module" else f"{self.owner}.{self.name}"


S = Kind.STR
PRI_NORM = 0


def _p(name: str, kind: Kind, default: object = _REQUIRED, wire: bool = True) -> Param:
    return Param(name, kind, default, wire)


_CALLBACK = _p("callback", Kind.ANY, wire=False)
_USERDATA = _p("userdata", Kind.ANY, None, wire=False)
_PRIORITY = _p("priority", Kind.INT, PRI_NORM)
_TIME = _p("time", Kind.INT, 0)

CONSTANTS: Dict[str, object] = {
    "EAT_NONE": 0,
    "EAT_HEXCHAT": 1,
    "EAT_XCHAT": 1,
    "EAT_PLUGIN": 2,
    "EAT_ALL": 3,
    "PRI_HIGHEST": 127,
    "PRI_HIGH": 64,
    "PRI_NORM": 0,
    "PRI_LOW": -64,
    "PRI_LOWEST": -128,
}

#: The same constants by name, for the client's own hooks (loader.py).
EAT_NONE: int = 0
EAT_ALL: int = 3
PRI_HIGH: int = 64
assert (EAT_NONE, EAT_ALL, PRI_HIGH) == (CONSTANTS["EAT_NONE"], CONSTANTS["EAT_ALL"], CONSTANTS["PRI_HIGH"])

MODULE_DOC = "HexChat Scripting Interface"
MODULE_VERSION = (2, 0)

#: The lists ``get_lists()`` names, in HexChat's order.
LISTS: Tuple[str, ...] = ("channels", "dcc", "ignore", "notify", "users")

CALLS: Tuple[Call, ...] = (
    # -- output and commands ------------------------------------------------
    Call("prnt", (_p("string", S),), Traffic.ONEWAY, Returns.NONE,
         "Print a line in the script's current context.", dead_context=None),
    Call("emit_print", (_p("event_name", S),), Traffic.TWOWAY, Returns.INT,
         "Emit a text event; returns 1 if it exists, else 0.", varargs="args",
         kwonly=(_TIME,), dead_context=0),
    Call("command", (_p("command", S),), Traffic.REENTRANT, Returns.NONE,
         "Run a command as if typed (without the leading '/').", dead_context=None),
    # -- pure queries ---------------------------------------------------------
    Call("nickcmp", (_p("string1", S), _p("string2", S)), Traffic.TWOWAY, Returns.INT,
         "Compare two nicks with the server's casemapping."),
    Call("strip", (_p("text", S), _p("length", Kind.INT, -1), _p("flags", Kind.INT, 3)),
         Traffic.TWOWAY, Returns.STR, "Strip colours (bit 1) and attributes (bit 2)."),
    Call("get_info", (_p("name", S),), Traffic.TWOWAY, Returns.OPT_STR,
         "Information about the current context (str or None).", dead_context=None),
    Call("get_prefs", (_p("name", S),), Traffic.TWOWAY, Returns.PREFS,
         "A HexChat preference: str, int or None."),
    Call("get_list", (_p("name", S),), Traffic.TWOWAY, Returns.LIST,
         "A HexChat list as ListItems."),
    Call("get_lists", (), Traffic.LOCAL, Returns.STR_LIST,
         "The names of the lists get_list knows.", local_body="return list(_LISTS)"),
    # -- hooks ----------------------------------------------------------------
    Call("hook_command", (_p("command", S), _CALLBACK, _USERDATA, _PRIORITY,
                          _p("help", Kind.OPT_STR, None)),
         Traffic.HOOK, Returns.HOOK_ID, "Hook a command.", hook="command"),
    Call("hook_print", (_p("name", S), _CALLBACK, _USERDATA, _PRIORITY),
         Traffic.HOOK, Returns.HOOK_ID, "Hook a text event.", hook="print"),
    Call("hook_print_attrs", (_p("name", S), _CALLBACK, _USERDATA, _PRIORITY),
         Traffic.HOOK, Returns.HOOK_ID, "Hook a text event, with attributes.",
         hook="print", with_attrs=True),
    Call("hook_server", (_p("name", S), _CALLBACK, _USERDATA, _PRIORITY),
         Traffic.HOOK, Returns.HOOK_ID, "Hook a server message.", hook="server"),
    Call("hook_server_attrs", (_p("name", S), _CALLBACK, _USERDATA, _PRIORITY),
         Traffic.HOOK, Returns.HOOK_ID, "Hook a server message, with attributes.",
         hook="server", with_attrs=True),
    Call("hook_timer", (_p("timeout", Kind.INT), _CALLBACK, _USERDATA),
         Traffic.HOOK, Returns.HOOK_ID, "Call back every timeout ms while it returns True.",
         hook="timer"),
    Call("hook_unload", (_CALLBACK, _USERDATA), Traffic.LOCAL, Returns.HOOK_ID,
         "Call back when the script is unloaded.", hook="unload",
         local_body="return _rt.add_unload_hook(callback, userdata)"),
    Call("unhook", (_p("handle", Kind.ANY),), Traffic.LOCAL, Returns.USERDATA,
         "Remove one of this script's hooks; returns its userdata or None.",
         local_body="return _rt.unhook(handle)"),
    # -- pluginprefs ------------------------------------------------------------
    Call("set_pluginpref", (_p("name", S), _p("value", Kind.VALUE)), Traffic.TWOWAY,
         Returns.BOOL, "Store a str or int; anything else returns False."),
    Call("get_pluginpref", (_p("name", S),), Traffic.TWOWAY, Returns.PREF,
         "Read a pluginpref with the in-process plugin's type guessing."),
    Call("del_pluginpref", (_p("name", S),), Traffic.TWOWAY, Returns.BOOL,
         "Delete a pluginpref."),
    Call("list_pluginpref", (), Traffic.TWOWAY, Returns.STR_LIST,
         "Names of all pluginprefs."),
    # -- contexts ----------------------------------------------------------------
    Call("get_context", (), Traffic.LOCAL, Returns.CONTEXT,
         "The script's current context.", local_body="return Context(_rt.current_ctx)"),
    Call("find_context", (_p("server", Kind.OPT_STR, None), _p("channel", Kind.OPT_STR, None)),
         Traffic.TWOWAY, Returns.OPT_CONTEXT, "Find a context by server and/or channel."),
    # -- Context methods: each acts in that context and switches back ------------
    Call("set", (), Traffic.TWOWAY, Returns.BOOL,
         "Make this the current context; False if it was closed.", owner="Context",
         backend_method="set_context", sets_context=True),
    Call("prnt", (_p("string", S),), Traffic.ONEWAY, Returns.NONE,
         "Print a line in this context.", owner="Context"),
    Call("emit_print", (_p("event_name", S),), Traffic.TWOWAY, Returns.INT,
         "Emit a text event in this context.", owner="Context", varargs="args",
         kwonly=(_TIME,)),
    Call("command", (_p("string", S),), Traffic.REENTRANT, Returns.NONE,
         "Run a command in this context.", owner="Context"),
    Call("get_info", (_p("name", S),), Traffic.TWOWAY, Returns.OPT_STR,
         "get_info in this context.", owner="Context"),
    Call("get_list", (_p("name", S),), Traffic.TWOWAY, Returns.LIST,
         "get_list in this context.", owner="Context"),
)

#: Every name of the in-process module's ``__all__`` (HexChat 2.16).
PUBLIC_NAMES: Tuple[str, ...] = tuple(sorted(
    list(CONSTANTS) + ["__doc__", "__version__"]
    + [c.name for c in CALLS if c.owner == "module"]))

#: Calls keyed by their wire name.
BY_WIRE_NAME: Dict[str, Call] = {c.wire_name: c for c in CALLS}

#: Notifications a worker sends that are not API calls (its own
#: bookkeeping): name -> (parameters after the context handle, meaning).
CONTROL_NOTES: Dict[str, Tuple[str, str]] = {
    "loading": ("", "the script's top level starts now: until `loaded` or `load_failed`, "
                    "at most the script's deadline, the client serves only this worker, "
                    "as HexChat's main loop is blocked while /load runs a script in process"),
    "loaded": ("name: str, version: str, description: str",
               "the script's top level ran; it appears in the Plugins and Scripts window"),
    "load_failed": ("reason: str", "the script did not load (the worker then exits)"),
    "timer_done": ("hook_id: int, keep: bool",
                   "a timer callback finished; keep false removes the timer"),
    "unloading": ("", "the worker read `unload`; what it sends after this comes from its "
                      "unload hooks (everything before is discarded by the client)"),
    "unloaded": ("", "the unload hooks ran; the worker exits next"),
}

# Guards against an accidental duplicate row.
assert len(BY_WIRE_NAME) == len(CALLS), "duplicate API row"
