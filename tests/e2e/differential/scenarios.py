"""The differential corpus: scripts/examples (the deterministic, in-process-safe
ones; see docs/scripts.md) plus small API-exercising scripts written here."""

from __future__ import annotations

import os
import textwrap
from typing import Dict, List

from .fidelity_corpus import fidelity_scenarios
from .runner import CHANNEL, Scenario

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "examples")


def _example(name: str) -> str:
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
        return f.read()


def _msg(nick: str, text: str, target: str = CHANNEL) -> Dict[str, str]:
    return {"server": ":%s!%s@example.org PRIVMSG %s :%s" % (nick, nick, target, text)}


def _cmd(text: str, context: str = CHANNEL) -> Dict[str, str]:
    return {"command": text, "context": context}


def _inline(name: str, body: str) -> str:
    return ('__module_name__ = "%s"\n__module_version__ = "1.0"\n'
            '__module_description__ = "differential scenario"\n' % name) + textwrap.dedent(body)


# ----------------------------------------------------------- inline scripts

LOAD_ATOMIC_SRC = _inline("load_atomic", r'''
import hexchat, time
hexchat.command("timer 0.1 echo timer after load")
hexchat.prnt("load_atomic: top level runs")
time.sleep(0.4)  # longer than the timer: in process nothing runs meanwhile
hexchat.prnt("load_atomic: about to fail")
raise RuntimeError("load_atomic fails on purpose")
''')

CHAIN_SRC = _inline("diff_chain", r'''
import hexchat

def chain(word, word_eol, userdata):
    try:
        {}["missing"]
    except KeyError:
        raise ValueError("raised while handling the KeyError")
    return hexchat.EAT_ALL

hexchat.hook_command("CHAIN", chain)
''')

HOOKS_SRC = _inline("diff_hooks", r'''
import hexchat

def show(tag):
    def cb(word, word_eol, userdata):
        if word[0] == "PING":
            return None  # the harness's sync PINGs (real HexChat only)
        hexchat.prnt("%s word=%r word_eol=%r ud=%r" % (tag, word, word_eol, userdata))
        if userdata == "eat-hexchat" and "eatme" in word_eol[0]:
            return hexchat.EAT_HEXCHAT
        if userdata == "eat-plugin" and "stopme" in word_eol[0]:
            return hexchat.EAT_PLUGIN
        if userdata == "eat-all" and "swallow" in word_eol[0]:
            return hexchat.EAT_ALL
        return None
    return cb

# equal priorities: newest first; then by priority
hexchat.hook_print("Channel Message", show("pm-norm-1"), "first")
hexchat.hook_print("Channel Message", show("pm-norm-2"), "eat-hexchat")
hexchat.hook_print("Channel Message", show("pm-high"), "eat-plugin", hexchat.PRI_HIGH)
hexchat.hook_print("Channel Message", show("pm-low"), "low", hexchat.PRI_LOW)
hexchat.hook_print("channel message", show("pm-lower-name"), "lower", hexchat.PRI_LOWEST)
hexchat.hook_server("PRIVMSG", show("srv"), "eat-all", hexchat.PRI_HIGH)
hexchat.hook_server("NOTICE", show("srv-notice"), "notice")
hexchat.hook_server("RAW LINE", show("raw"), "raw", hexchat.PRI_LOWEST)
hexchat.hook_command("DIFFCMD", show("cmd"), "cmd-ud")
hexchat.hook_command("", show("typed"), "typed-ud")
hexchat.hook_print("Your Message", show("yours"), "yours-ud")

def stop_raw(word, word_eol, userdata):
    global raw_hook
    if raw_hook is not None:
        hexchat.prnt("unhooking raw: %r" % (hexchat.unhook(raw_hook),))
        raw_hook = None
    return hexchat.EAT_ALL
raw_hook = None
hexchat.hook_command("NORAW", stop_raw)
raw_hook = hexchat.hook_server("RAW LINE", show("raw2"), "raw2", hexchat.PRI_HIGHEST)
print("diff_hooks loaded")
''')

CONTEXTS_SRC = _inline("diff_contexts", r'''
import hexchat

saved = {}

def where(tag):
    hexchat.prnt("%s: channel=%r network=%r type of ctx=%s"
                 % (tag, hexchat.get_info("channel"), hexchat.get_info("network"),
                    type(hexchat.get_context()).__name__))

def on_priv(word, word_eol, userdata):
    where("private message hook")
    ctx = hexchat.get_context()
    saved["dialog"] = ctx
    chan = hexchat.find_context(channel="#test")
    chan.prnt("from the dialog hook: %s said %r" % (word[0], word[1]))
    return None

def ctxcmd(word, word_eol, userdata):
    where("CTX start")
    chan = hexchat.find_context(channel="#test")
    srv = hexchat.find_context(server="ScriptedNet")
    front = hexchat.find_context()
    hexchat.prnt("srv channel=%r, front channel=%r" % (srv.get_info("channel"), front.get_info("channel")))
    hexchat.prnt("find by server name == by network: %s"
                 % (hexchat.find_context(server="irc.scripted.test") == srv))
    hexchat.prnt("find #TEST (case) == #test: %s" % (hexchat.find_context(channel="#TEST") == chan))
    d = saved.get("dialog")
    if d is not None:
        hexchat.prnt("dialog alive: %r set=%s" % (d.get_info("channel"), d.set()))
        where("after dialog.set()")
        d.prnt("printed into the dialog")
        d.command("echo echo in the dialog")
        hexchat.prnt("dialog users: %r" % (d.get_list("users"),))
        hexchat.prnt("dialog emit: %r" % (d.emit_print("Private Message to Dialog", "carol", "fake", ""),))
        chan.set()
    srv.command("echo echo in the server tab")
    srv.prnt("printed into the server tab")
    hexchat.prnt("server tab info: channel=%r server=%r nick=%r"
                 % (srv.get_info("channel"), srv.get_info("server"), srv.get_info("nick")))
    where("CTX end")
    return hexchat.EAT_ALL

def timer(ud):
    where("timer")
    hexchat.prnt("timer done")

def later(word, word_eol, userdata):
    hexchat.hook_timer(100, timer)
    return hexchat.EAT_ALL

def on_focus(word, word_eol, userdata):
    where("Focus Tab")

hexchat.hook_print("Private Message to Dialog", on_priv)
hexchat.hook_print("Private Message", on_priv)
hexchat.hook_print("Focus Tab", on_focus)
hexchat.hook_command("CTX", ctxcmd)
hexchat.hook_command("LATER", later)
print("diff_contexts loaded")
''')

PREFS_SRC = _inline("diff_prefs", r'''
import hexchat

VALUES = [
    ("dp_empty", ""), ("dp_space", " 5"), ("dp_trail", "5 "), ("dp_hex", "0x10"),
    ("dp_neg", -42), ("dp_negstr", "-1"), ("dp_zero", 0), ("dp_false", False),
    ("dp_twelve", "123456789012"), ("dp_thirteen", "1234567890123"),
    ("dp_12chars", "abcdefghijkl"), ("dp_eq", "a = b"), ("dp_utf8", "caf\u00e9"),
    ("dp_big", 2**31 - 1), ("dp_plus", "+7"), ("dp_tab", "a\tb"),
]

def prefs(word, word_eol, userdata):
    for name, value in VALUES:
        ok = hexchat.set_pluginpref(name, value)
        got = hexchat.get_pluginpref(name)
        hexchat.prnt("%s: set %r -> %r, get %r (%s)" % (name, value, ok, got, type(got).__name__))
    hexchat.prnt("set list: %r" % (hexchat.set_pluginpref("dp_list", [1]),))
    hexchat.prnt("list: %r" % (sorted(n for n in hexchat.list_pluginpref() if n.startswith("dp_")),))
    hexchat.prnt("overwrite: %r -> %r" % (hexchat.set_pluginpref("dp_zero", "zero"),
                                           hexchat.get_pluginpref("dp_zero")))
    for name in ("dp_empty", "dp_missing"):
        hexchat.prnt("del %s: %r" % (name, hexchat.del_pluginpref(name)))
    return hexchat.EAT_ALL

hexchat.hook_command("DPREFS", prefs)
''')

EMIT_SRC = _inline("diff_emit", r'''
import hexchat

def on_any(word, word_eol, userdata):
    hexchat.prnt("hook %s word=%r word_eol=%r" % (userdata, word, word_eol))
    if userdata == "Channel Action" and word and word[0] == "eaten":
        return hexchat.EAT_ALL
    return None

for ev in ("Channel Action", "Generic Message", "Channel Notice", "Topic Change", "Part with Reason"):
    hexchat.hook_print(ev, on_any, ev)

def emit(word, word_eol, userdata):
    cases = [
        ("Channel Action", ()),
        ("Channel Action", ("nobody",)),
        ("Channel Action", ("eaten", "should not print")),
        ("Channel Action", ("amy", "waves", "+", "")),
        ("Generic Message", ("*left*", "right side")),
        ("Generic Message", ("", "", "", "")),
        ("Channel Notice", ("amy", "#test", "notice text")),
        ("Topic Change", ("amy", "a topic", "#test")),
        ("Part with Reason", ("amy", "amy@host", "#test", "bye")),
        ("generic message", ("lower", "case name")),
        ("No Such Event", ("x",)),
        ("", ()),
    ]
    for ev, args in cases:
        r = hexchat.emit_print(ev, *args)
        hexchat.prnt("emit_print(%r, %s) -> %r" % (ev, ", ".join(map(repr, args)), r))
    try:
        hexchat.emit_print("Channel Action", "a", "b", "c", "d", "e")
        hexchat.prnt("five args: no error")
    except Exception as e:
        hexchat.prnt("five args: %s" % type(e).__name__)
    return hexchat.EAT_ALL

hexchat.hook_command("EMIT", emit)
''')

RAISE_SRC = _inline("diff_raise", r'''
import hexchat

def boom(word, word_eol, userdata):
    hexchat.prnt("BOOM: about to raise")
    return 1 // 0

def bad_return(word, word_eol, userdata):
    hexchat.prnt("BADRET: returning a string")
    return "3"

def on_msg(word, word_eol, userdata):
    if word[1] == "raise please":
        raise ValueError("raised in a print hook: %s" % word[0])

hexchat.hook_command("BOOM", boom)
hexchat.hook_command("BADRET", bad_return)
hexchat.hook_print("Channel Message", on_msg)
print("diff_raise loaded")
''')


def corpus() -> List[Scenario]:
    ex = _example
    return [
        Scenario("greeter", "greeter.py", ex("greeter.py"), [
            {"server": ":carol!carol@example.org JOIN #test"},
            _cmd("GREET status"),
            _cmd("GREET off"),
            {"server": ":dave!dave@example.org JOIN #test"},
            _cmd("GREET"),
            _cmd("GREET bogus"),
            {"server": ":e2ebot!e2e@127.0.0.1 JOIN #test"},
        ]),
        Scenario("highlight_log", "highlight_log.py", ex("highlight_log.py"), [
            _msg("alice", "plain message"),
            _msg("alice", "e2ebot: are you there?"),
            _msg("bob", "\x01ACTION pokes e2ebot\x01"),
            _msg("bob", "\x02bold\x02 e2ebot \x0304red\x03"),
        ]),
        Scenario("priority_eater", "priority_eater.py", ex("priority_eater.py"), [
            _msg("alice", "hello one"),
            _msg("alice", "buy spam now"),
            _msg("bob", "!quiet please"),
            _msg("bob", "this is [muted] text"),
            _msg("alice", "hello two"),
            _msg("alice", "hello three"),
            _msg("alice", "hello four"),
            _cmd("SPAMSTATS"),
        ]),
        Scenario("contexts_lists", "contexts_lists.py", ex("contexts_lists.py"), [
            {"server": ":alice!alice@example.org TOPIC #test :the test topic"},
            _cmd("CHANINFO"),
            _cmd("WHOHERE"),
            _cmd("WHEREAMI"),
            _cmd("CHANINFO", "ScriptedNet"),
            _cmd("WHOHERE", "ScriptedNet"),
            _cmd("WHEREAMI", "ScriptedNet"),
        ]),
        Scenario("emitter", "emitter.py", ex("emitter.py"), [
            _cmd("FAKEMSG zed hi there"),
            _cmd("FAKEOLD zed old news"),
            _cmd("FAKEMSG"),
            _msg("alice", "a real message"),
            {"server": "@time=2011-10-19T16:40:51.620Z :alice!alice@example.org PRIVMSG #test :tagged"},
        ]),
        Scenario("prefs_roundtrip", "prefs_roundtrip.py", ex("prefs_roundtrip.py"), [
            _cmd("PREFS"),
            _cmd("PREFS"),
        ]),
        Scenario("nested", "nested.py", ex("nested.py"), [
            _cmd("OUTER"),
            {"input": "typed text", "context": CHANNEL},
            {"input": "/INNER2", "context": CHANNEL},
        ]),
        Scenario("all_api", "all_api.py", ex("all_api.py"), [
            _msg("alice", "before allapi"),
            _cmd("ALLAPI"),
            {"advance": 1500, "until": "all_api: timers done"},
            _msg("bob", "after allapi"),
            _cmd("ALLAPI_PING  spaced   words "),
        ]),
        # Its own scenario, so that a difference here does not hide the rest of all_api.
        Scenario("all_api_closed", "all_api.py", ex("all_api.py"), [
            _cmd("ALLAPI_CLOSED"),
        ]),
        # Load failures: what the user is told, and that nothing of the script is left.
        Scenario("broken_py2", "broken_py2.py", ex("broken_py2.py"), [
            _cmd("HELLO2 bob"),
        ], load_failure="Failed to load module"),
        Scenario("no_module_name", "no_module_name.py", ex("no_module_name.py"), [
            _cmd("NONAME"),
        ], load_failure="Failed to load module"),
        # Issue 13: a load is atomic in process (HexChat's main loop is blocked
        # while the top level runs), so the timer set during load prints only
        # after "Failed to load module" and its traceback.
        Scenario("load_atomic", "load_atomic.py", LOAD_ATOMIC_SRC, [
            {"advance": 1000, "until": "timer after load"},
        ], load_failure="Failed to load module"),
        # Issue 13: an exception escaping a callback prints as python.py does
        # (the last exception only, not the chain).
        Scenario("callback_chain", "diff_chain.py", CHAIN_SRC, [
            _cmd("CHAIN"),
            _cmd("CHAIN again"),
        ]),
        Scenario("timers", "timers.py", ex("timers.py"), [
            _cmd("TICKS"),
            {"advance": 3200, "until": "timers: limit of 3 reached"},
            _cmd("TICKS"),
            _cmd("TICKS limit 5"),
            _cmd("TICKS limit x"),
        ], prefs={"timers_limit": "3"}),
        Scenario("hooks", "diff_hooks.py", HOOKS_SRC, [
            _msg("alice", "hello  there   spaced"),
            _msg("alice", "please eatme"),
            _msg("alice", "please stopme"),
            _msg("alice", "swallow this"),
            {"server": "NOTICE e2ebot :prefixless notice"},
            _cmd("NORAW"),
            _cmd('DIFFCMD one "two three"  four'),
            {"input": "typed  words here", "context": CHANNEL},
            {"input": "/diffcmd x", "context": CHANNEL},
        ]),
        Scenario("contexts", "diff_contexts.py", CONTEXTS_SRC, [
            _cmd("CTX"),
            _msg("carol", "hello in private", target="e2ebot"),
            _msg("carol", "second private"),
            _cmd("CTX"),
            _cmd("CTX", "ScriptedNet"),
            {"focus": "ScriptedNet"},
            _cmd("LATER"),
            {"advance": 200, "until": "timer done"},
            {"focus": CHANNEL},
        ]),
        Scenario("prefs", "diff_prefs.py", PREFS_SRC, [
            _cmd("DPREFS"),
        ]),
        Scenario("emit", "diff_emit.py", EMIT_SRC, [
            _cmd("EMIT"),
            {"server": ":amy!amy@example.org PART #test :gone home"},
            {"server": ":amy!amy@example.org NOTICE #test :chan notice"},
        ]),
        Scenario("raise", "diff_raise.py", RAISE_SRC, [
            _cmd("BOOM"),
            _cmd("BADRET"),
            _msg("alice", "raise please"),
            _msg("alice", "fine"),
        ]),
    ] + fidelity_scenarios()


def by_name() -> Dict[str, Scenario]:
    return {s.name: s for s in corpus()}
