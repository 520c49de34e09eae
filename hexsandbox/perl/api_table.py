"""The one table that describes HexChat 2.16's Perl API (Debian ``hexchat-perl``).

The reference is HexChat's own Perl plugin: ``plugins/perl/perl.c`` (the XS
functions, mostly ``HexChat::Internal::*``) and ``lib/HexChat.pm`` (the
public functions, written in Perl over the XS ones). The sandbox mirrors that
split:

* rows with ``traffic`` ONEWAY / REENTRANT / TWOWAY are the XS functions that
  reach HexChat. :mod:`hexsandbox.perl.generate` turns each into a Perl stub
  (argument coercion from the row's kinds, the wire call, the result shaped as
  perl.c returns it) in ``lib/HexSandbox/Api.pm``; the client serves their
  wire names (:mod:`hexsandbox.perl.client`). Where the backend call is the
  same as a Python row, the row names that Python wire method (``wire``) and
  the client reuses its generated handler; only the Perl-only calls have
  their own (``perl.*`` wire names);
* HOOK rows are the XS hook functions: the callback stays in the worker
  (``lib/HexSandbox/Script.pm``), the client is told with the Python row's
  hook wire name, so hook forwarding is one code path for both languages;
* LOCAL rows are answered in the worker (``get_context``, ``unhook``,
  ``register``...);
* PERL rows are the public functions of ``HexChat.pm``, pure Perl over the
  rows above (``lib/HexChat.pm`` in this package is our own stand-in).

``python -m hexsandbox.perl.generate`` writes the stubs; docs/perl.md's
table is generated from this file too (``--docs``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ..api_table import BY_WIRE_NAME, Traffic


class PerlTraffic(enum.Enum):
    """How a Perl call travels: the Python kinds, plus pure-Perl functions."""

    ONEWAY = Traffic.ONEWAY.value
    REENTRANT = Traffic.REENTRANT.value
    TWOWAY = Traffic.TWOWAY.value
    HOOK = Traffic.HOOK.value
    LOCAL = Traffic.LOCAL.value
    PERL = "perl"        # written in Perl in HexChat.pm, over the rows above


class Arg(enum.Enum):
    """How a stub coerces one Perl argument for the wire (``SvPV``/``SvIV``)."""

    STR = "str"          # SvPV_nolen: stringified, undef -> ''
    OPT_STR = "opt_str"  # undef stays undef (nil)
    INT = "int"          # SvIV: numified
    STR_LIST = "str_list"  # an array ref of strings, or one string
    TRUE_STR = "true_str"  # find_context: a false non-number is NULL (undef)


class Result(enum.Enum):
    """What the XS function returns, and so how the stub shapes the answer."""

    EMPTY = "empty"          # XSRETURN_EMPTY
    INT = "int"
    OPT_STR = "opt_str"      # a string, or undef
    PREF = "pref"            # get_prefs: str, int, or a bool as 1 / ''
    HANDLE = "handle"        # a context handle, or undef
    ROWS = "rows"            # get_list: a list of hash refs (scalar context: the count)
    HASH = "hash"            # one hash ref (context_info's channel fields)
    PAIRS = "pairs"          # a flat name/value list (plugin_pref_list)


@dataclass(frozen=True)
class PerlCall:
    name: str                              # Perl sub name without the package
    package: str                           # 'HexChat' or 'HexChat::Internal'
    params: Tuple[Tuple[str, Arg], ...]    # the wire arguments, in the Perl order
    traffic: PerlTraffic
    doc: str
    wire: Optional[str] = None             # wire method (a Python row's, or perl.*)
    result: Result = Result.EMPTY
    #: Wire argument order differs from the Perl one (find_context).
    wire_order: Optional[Tuple[int, ...]] = None
    #: For emit_print: the event's own arguments, padded to 4 strings.
    varargs: bool = False
    #: Fewer arguments the XS function accepts (find_context: 0 to 2).
    min_args: Optional[int] = None

    @property
    def full_name(self) -> str:
        return f"{self.package}::{self.name}"

    @property
    def reuses_python(self) -> bool:
        return self.wire is not None and self.wire in BY_WIRE_NAME


I = "HexChat::Internal"
H = "HexChat"
S, OS, N = Arg.STR, Arg.OPT_STR, Arg.INT

#: Constants of perl.c's xs_init (newCONSTSUB in package HexChat).
CONSTANTS: Dict[str, int] = {
    "PRI_HIGHEST": 127, "PRI_HIGH": 64, "PRI_NORM": 0, "PRI_LOW": -64, "PRI_LOWEST": -128,
    "EAT_NONE": 0, "EAT_HEXCHAT": 1, "EAT_XCHAT": 1, "EAT_PLUGIN": 2, "EAT_ALL": 3,
    "FD_READ": 1, "FD_WRITE": 2, "FD_EXCEPTION": 4, "FD_NOTSOCKET": 8,
    "KEEP": 1, "REMOVE": 0,
}

#: $HexChat::VERSION (perl.c sets it to PACKAGE_VERSION).
VERSION = "2.16.1"

#: The lists HexChat::get_list accepts without a warning ('networks' is read
#: from servlist.conf by HexChat::List::Network, in Perl).
LISTS: Tuple[str, ...] = ("channels", "dcc", "ignore", "notify", "users", "networks")

CALLS: Tuple[PerlCall, ...] = (
    # ---- XS functions that reach HexChat -----------------------------------
    PerlCall("print", I, (("text", S),), PerlTraffic.ONEWAY,
             "hexchat_print in the current context.", wire="prnt"),
    PerlCall("command", I, (("command", S),), PerlTraffic.REENTRANT,
             "hexchat_command; hooks it fires run nested before it returns.", wire="command"),
    PerlCall("emit_print", H, (("event", S),), PerlTraffic.TWOWAY,
             "Emit a text event with up to 4 arguments (stops at the first undef); 1 if it exists.",
             wire="emit_print", result=Result.INT, varargs=True),
    PerlCall("nickcmp", H, (("nick1", S), ("nick2", S)), PerlTraffic.TWOWAY,
             "Compare two nicks with the server's casemapping.", wire="nickcmp", result=Result.INT),
    PerlCall("get_info", I, (("id", S),), PerlTraffic.TWOWAY,
             "hexchat_get_info: a string or undef.", wire="get_info", result=Result.OPT_STR),
    PerlCall("get_prefs", H, (("name", S),), PerlTraffic.TWOWAY,
             "A HexChat setting: string, integer, or a boolean as 1 / ''; undef if unknown.",
             wire="get_prefs", result=Result.PREF),
    PerlCall("get_list", I, (("name", S),), PerlTraffic.TWOWAY,
             "Rows of a HexChat list as hash refs; in scalar context the number of rows.",
             wire="get_list", result=Result.ROWS),
    PerlCall("find_context", H, (("channel", Arg.TRUE_STR), ("server", Arg.TRUE_STR)), PerlTraffic.TWOWAY,
             "A context handle by channel and/or server, or undef.", wire="find_context",
             result=Result.HANDLE, wire_order=(1, 0), min_args=0),
    PerlCall("set_context", I, (("context", N),), PerlTraffic.TWOWAY,
             "Make a context current; 1, or 0 if it no longer exists.", wire="Context.set",
             result=Result.INT),
    PerlCall("context_info", I, (), PerlTraffic.TWOWAY,
             "The 'channels' list fields of the current context, as one hash ref.",
             wire="perl.context_info", result=Result.HASH),
    PerlCall("send_modes", H, (("targets", Arg.STR_LIST), ("sign", S), ("mode", S),
                               ("modes_per_line", N)), PerlTraffic.ONEWAY,
             "hexchat_send_modes: set or unset a mode on several nicks, N per line.",
             wire="perl.send_modes"),
    PerlCall("plugin_pref_set", I, (("name", S), ("value", S)), PerlTraffic.TWOWAY,
             "hexchat_pluginpref_set_str of the Perl plugin (addon_perl.conf); 1 or 0.",
             wire="perl.plugin_pref_set", result=Result.INT),
    PerlCall("plugin_pref_get", I, (("name", S),), PerlTraffic.TWOWAY,
             "hexchat_pluginpref_get_str of the Perl plugin: the string, or undef.",
             wire="perl.plugin_pref_get", result=Result.OPT_STR),
    PerlCall("plugin_pref_delete", I, (("name", S),), PerlTraffic.TWOWAY,
             "hexchat_pluginpref_delete of the Perl plugin; 1 or 0.",
             wire="perl.plugin_pref_delete", result=Result.INT),
    PerlCall("plugin_pref_list", I, (), PerlTraffic.TWOWAY,
             "Every name and value of the Perl plugin's store, as a flat list.",
             wire="perl.plugin_pref_list", result=Result.PAIRS),
    # ---- hooks: the callback stays in the worker ------------------------------
    PerlCall("hook_server", I, (("message", S), ("priority", N)), PerlTraffic.HOOK,
             "Hook a server message; the callback gets (\\@word, \\@word_eol, $data).",
             wire="hook_server"),
    PerlCall("hook_command", I, (("command", S), ("priority", N), ("help_text", OS)),
             PerlTraffic.HOOK,
             "Hook a command; the callback gets (\\@word, \\@word_eol, $data).",
             wire="hook_command"),
    PerlCall("hook_print", I, (("event", S), ("priority", N)), PerlTraffic.HOOK,
             "Hook a text event; the callback gets (\\@word, $data).", wire="hook_print"),
    PerlCall("hook_timer", I, (("timeout", N),), PerlTraffic.HOOK,
             "Call back after timeout ms, again while it returns true (KEEP); "
             "in the context it was hooked in.", wire="hook_timer"),
    PerlCall("hook_fd", I, (("fd", N), ("flags", N)), PerlTraffic.LOCAL,
             "Watch a file descriptor of the script's own process (the worker's loop "
             "selects on it); the callback gets ($fd, $flags, $data)."),
    PerlCall("unhook", I, (("hook", N),), PerlTraffic.LOCAL,
             "Remove a hook of this script. Returns the hook handle it was given: perl.c "
             "pushes the data after its argument and returns one value, its argument."),
    PerlCall("register", I, (("name", S), ("version", S), ("description", S), ("filename", S)),
             PerlTraffic.LOCAL,
             "Name the script for the Plugins and Scripts window (sent with 'loaded')."),
    PerlCall("get_context", H, (), PerlTraffic.LOCAL, "The script's current context handle."),
    # ---- HexChat.pm: pure Perl over the rows above ------------------------------
    PerlCall("register", H, (), PerlTraffic.PERL,
             "register($name, $version, $description, $shutdown_callback): once per script; "
             "'Not supplied' / 'NaN' for a missing name / version."),
    PerlCall("hook_server", H, (), PerlTraffic.PERL,
             "hook_server($message, $cb, {priority, data}) -> hook."),
    PerlCall("hook_command", H, (), PerlTraffic.PERL,
             "hook_command($name, $cb, {priority, help_text, data}) -> hook."),
    PerlCall("hook_print", H, (), PerlTraffic.PERL,
             "hook_print($event, $cb, {priority, run_after_event, filter, data}) -> hook; "
             "run_after_event runs the callback from a 0 ms timer."),
    PerlCall("hook_timer", H, (), PerlTraffic.PERL,
             "hook_timer($ms, $cb, $data or {data}) -> hook."),
    PerlCall("hook_fd", H, (), PerlTraffic.PERL,
             "hook_fd($handle, $cb, {flags, data}) -> hook (undef if no fileno)."),
    PerlCall("unhook", H, (), PerlTraffic.PERL, "unhook($hook) -> the hook's data, if it is ours."),
    PerlCall("print", H, (), PerlTraffic.PERL,
             "print($text or \\@texts, [$channel(s), [$server(s)]]): in each context named."),
    PerlCall("printf", H, (), PerlTraffic.PERL, "printf($format, @args)."),
    PerlCall("prnt", H, (), PerlTraffic.PERL, "Alias of print."),
    PerlCall("prntf", H, (), PerlTraffic.PERL, "Alias of printf."),
    PerlCall("command", H, (), PerlTraffic.PERL,
             "command($cmd or \\@cmds, [$channel(s), [$server(s)]])."),
    PerlCall("commandf", H, (), PerlTraffic.PERL, "commandf($format, @args)."),
    PerlCall("set_context", H, (), PerlTraffic.PERL,
             "set_context($handle) or set_context($channel, [$server]) -> 1 / 0."),
    PerlCall("get_info", H, (), PerlTraffic.PERL,
             "get_info($id); 'state_cursor' and 'id' are read with get_prefs."),
    PerlCall("get_list", H, (), PerlTraffic.PERL,
             "get_list($name); warns for an unknown list; 'networks' from servlist.conf."),
    PerlCall("user_info", H, (), PerlTraffic.PERL,
             "user_info([$nick]) -> the 'users' row of that nick (default: yours), or undef."),
    PerlCall("context_info", H, (), PerlTraffic.PERL,
             "context_info([$ctx]) -> get_info fields plus channel fields of that context."),
    PerlCall("strip_code", H, (), PerlTraffic.PERL,
             "Remove colour and attribute codes (in place in void context)."),
    PerlCall("plugin_pref_set", H, (), PerlTraffic.PERL, "plugin_pref_set($name, $value) -> 1 / 0."),
    PerlCall("plugin_pref_get", H, (), PerlTraffic.PERL, "plugin_pref_get($name) -> value or undef."),
    PerlCall("plugin_pref_delete", H, (), PerlTraffic.PERL, "plugin_pref_delete($name) -> 1 / 0."),
    PerlCall("plugin_pref_del", H, (), PerlTraffic.PERL, "Alias of plugin_pref_delete."),
    PerlCall("plugin_pref_list", H, (), PerlTraffic.PERL, "plugin_pref_list() -> {name => value}."),
)

#: Rows whose stub the generator writes (the XS functions that reach HexChat).
FORWARDED: Tuple[PerlCall, ...] = tuple(
    c for c in CALLS if c.traffic in (PerlTraffic.ONEWAY, PerlTraffic.REENTRANT, PerlTraffic.TWOWAY))

#: Hook rows: Perl hook kind -> the Python hook row's wire name.
HOOK_WIRE: Dict[str, str] = {
    c.name[len("hook_"):]: c.wire for c in CALLS if c.traffic is PerlTraffic.HOOK and c.wire}

#: Wire methods only a Perl worker sends (served by hexsandbox.perl.client).
PERL_ONLY_WIRE: Tuple[str, ...] = tuple(
    c.wire for c in FORWARDED if c.wire is not None and not c.reuses_python)

#: Export tags of HexChat.pm (what `use HexChat qw(:all)` imports).
EXPORT_TAGS: Dict[str, Tuple[str, ...]] = {
    "constants": ("PRI_HIGHEST", "PRI_HIGH", "PRI_NORM", "PRI_LOW", "PRI_LOWEST",
                  "EAT_NONE", "EAT_HEXCHAT", "EAT_XCHAT", "EAT_PLUGIN", "EAT_ALL",
                  "FD_READ", "FD_WRITE", "FD_EXCEPTION", "FD_NOTSOCKET", "KEEP", "REMOVE"),
    "hooks": ("hook_server", "hook_command", "hook_print", "hook_timer", "hook_fd", "unhook"),
    "util": ("register", "nickcmp", "strip_code", "send_modes",
             "print", "prnt", "printf", "prntf", "command", "commandf", "emit_print",
             "find_context", "get_context", "set_context",
             "get_info", "get_prefs", "get_list", "context_info", "user_info",
             "plugin_pref_set", "plugin_pref_get", "plugin_pref_delete", "plugin_pref_del",
             "plugin_pref_list"),
}

assert len({c.full_name for c in CALLS}) == len(CALLS), "duplicate Perl API row"
assert all(not c.reuses_python or c.wire in BY_WIRE_NAME for c in CALLS)
