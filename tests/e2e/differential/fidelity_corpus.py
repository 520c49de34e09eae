"""Fidelity corpus (issue 13): real-world-style scripts for each cause of an
emulator/HexChat difference that was measured on public scripts, plus
look-alikes of public HexChat scripts.

Every entry of ``SOURCES`` says where its script comes from: ``written here``
(with the cause it reproduces) or ``look-alike of <repository>:<path>`` (our
own code, reproducing that script's use of the API, never a copy).
"""

from __future__ import annotations

import textwrap
from typing import Dict, List

from .runner import CHANNEL, Scenario

SOURCES: Dict[str, str] = {
    "gui_builtins": "written here: MENU, TRAY, DIALOG and GUI as scripts use them (cause: built-ins sent raw)",
    "chanop_builtins": "written here: QUIET, KICKBAN, BAN, UNBAN, VOICE as op scripts use them (cause: built-ins sent raw)",
    "builtin_help": "written here: /help and bare built-ins (cause: 'Usage: NOTICE' instead of the usage line)",
    "set_command": "written here: /set reads, writes, flags and wildcards (cause: /set variables and formats)",
    "prefs_id": "written here: get_prefs('id') and the channels list ids (cause: id 1 instead of 0)",
    "server_echoes": "written here: KICK, AWAY/BACK, TOPIC, a raw TOPIC and a raw PART, then joining again (cause: the emulated server's echoes)",
    "config_files": "written here: a script reading hexchat.conf (cause: config dir without HexChat's files)",
    "timer_command": "written here: the Timer plugin's /TIMER (cause: TIMER sent raw)",
    "py_command": "written here: /PY ABOUT, EXEC, UNLOAD, bare (cause: PY sent raw)",
    "ignore_command": "written here: /IGNORE, /UNIGNORE and ignored traffic (cause: IGNORE sent raw)",
    "nignore": "look-alike of hexchat/hexchat-addons:python/nignore/nignore.py",
    "icycle": "look-alike of hexchat/hexchat-addons:python/icycle/icycle.py",
    "autoaway": "look-alike of hexchat/hexchat-addons:python/autoaway/autoaway.py",
    "onoticeformat": "look-alike of hexchat/hexchat-addons:python/onoticeformat/onoticeformat.py (clock made fixed)",
    "notice_redirect": "look-alike of hexchat/hexchat-addons:python/msg-notice-redirection/msg-notice-redirection.py",
    "hug": "look-alike of hexchat/hexchat-addons:python/hug/hug.py (through the xchat module)",
    "slap": "look-alike of hexchat/hexchat-addons:python/slap/slap.py (random choice made fixed)",
}


def _src(name: str, body: str) -> str:
    return ('__module_name__ = "%s"\n__module_version__ = "1.0"\n'
            '__module_description__ = "fidelity corpus"\n' % name) + textwrap.dedent(body)


def _cmd(text: str, context: str = CHANNEL) -> Dict[str, str]:
    return {"command": text, "context": context}


def _run_list(name: str, commands: List[str], shout: bool = False) -> str:
    """A script whose /RUN_<name> runs ``commands`` through hexchat.command,
    each announced first (upper-cased with ``shout``, so that a line a
    command prints later can serve as an ``until`` marker), then prints what
    it can observe."""
    return _src("fid_" + name, r'''
import hexchat

COMMANDS = %r
SHOUT = %r

def run(word, word_eol, userdata):
    for text in COMMANDS:
        hexchat.prnt("-- %%s" %% (text.upper() if SHOUT else text))
        hexchat.command(text)
    hexchat.prnt("-- done: front=%%r tabs=%%r" %% (
        hexchat.find_context().get_info("channel"),
        sorted(c.channel for c in hexchat.get_list("channels"))))
    return hexchat.EAT_ALL

hexchat.hook_command("RUN_%s", run)
''' % (commands, shout, name.upper()))


GUI_SRC = _run_list("gui", [
    'menu add "$TAB/Diff Item" "echo clicked"',
    'menu -t1 add "Settings/Diff Toggle" "echo on" "echo off"',
    'menu del "$TAB/Diff Item"',
    "menu",
    "tray -t diff tooltip",
    "gui flash",
    "gui color 2",
    "gui bogus",
    "gui menu toggle",
    "dialog carol",
])

CHANOP_SRC = _run_list("chanop", [
    "quiet alice",
    "kickban carol bye now",
    "ban dave",
    "ban dave 3",
    "unban *!*@example.org dave!*@*",
    "voice alice",
    "devoice bob",
    "unban",
])

HELP_SRC = _run_list("help", [
    "help notice", "notice", "notice alice", "help msg", "kick", "help timer", "help py",
    "help nosuchcommand", "help debug", "help dialog", "unignore", "invite", "quote",
])

SET_SRC = _src("fid_set", r'''
import hexchat

def run(word, word_eol, userdata):
    for text in ["set irc_part_reason", "set away_reason Gone fishing", "set away_reason",
                 "set irc_hide_version", "set irc_hide_version 1", "set -quiet irc_hide_version 0",
                 "set irc_hide_version", "set nosuch_variable", "set -quiet nosuch_variable",
                 "set text_max_lines = 300", "set irc_raw_modes on", "set irc_raw_modes no",
                 "set -or gui_tab_layout 1", "set -off gui_tab_layout 2", "set irc_no*",
                 "set -e irc_extra_hilight", "set completion_suffix ;"]:
        hexchat.prnt("-- %s" % text)
        hexchat.command(text)
    for name in ("away_reason", "text_max_lines", "irc_raw_modes", "gui_tab_layout", "completion_suffix"):
        hexchat.prnt("get_prefs(%r) = %r" % (name, hexchat.get_prefs(name)))
    return hexchat.EAT_ALL

hexchat.hook_command("RUN_SET", run)
''')

PREFS_ID_SRC = _src("fid_prefs_id", r'''
import hexchat

def run(word, word_eol, userdata):
    hexchat.prnt("id=%r" % (hexchat.get_prefs("id"),))
    hexchat.find_context(server="ScriptedNet").set()
    hexchat.prnt("server tab id=%r" % (hexchat.get_prefs("id"),))
    hexchat.find_context(channel="#test").set()
    hexchat.prnt("channels=%r" % ([(c.channel, c.type, c.id) for c in hexchat.get_list("channels")],))
    hexchat.prnt("state_cursor=%r" % (hexchat.get_prefs("state_cursor"),))
    return hexchat.EAT_ALL

hexchat.hook_command("RUN_IDS", run)
''')

ECHOES_SRC = _run_list("echoes", [
    "kick alice not welcome",
    "kick bob",
    "away gone fishing",
    "back",
    "topic a new topic",
    "quote TOPIC #test :a raw topic",
    "quote PART #test :raw part",
])

CONFIG_SRC = _src("fid_config", r'''
import os
import hexchat

def run(word, word_eol, userdata):
    hexchat.command("set -quiet irc_hide_version 0")  # HexChat writes hexchat.conf now
    path = os.path.join(hexchat.get_info("configdir"), "hexchat.conf")
    values = {}
    with open(path) as f:
        lines = f.read().splitlines()
    for line in lines:
        name, _, value = line.partition(" = ")
        values[name] = value
    hexchat.prnt("hexchat.conf: %d lines, first %r" % (len(lines), lines[0]))
    for name in ("irc_nick1", "irc_user_name", "away_reason", "irc_no_hilight", "text_indent", "gui_tab_layout"):
        hexchat.prnt("%s = %r" % (name, values.get(name)))
    return hexchat.EAT_ALL

hexchat.hook_command("RUN_CONFIG", run)
''')

TIMER_SRC = _run_list("timer", [
    "timer",
    "timer 1 echo timer one fired",
    "timer -repeat 2 2 echo repeat tick",
    "timer -refnum 7 9 echo seven",
    "timer",
    "timer -delete 7",
    "timer -delete 99",
    "timer -quiet -delete 98",
    "timer 0.05 echo too short",
    "timer 2",
    "timer 5 echo timers all done",
], shout=True)

PY_SRC = _run_list("py", [
    "py about",
    "py exec 6 * 7",
    "py exec fid_x = 'kept'",
    "py exec print('exec says', fid_x)",
    "py unload no_such_script.py",
    "py reload no_such_script",
    "py",
])

IGNORE_SRC = _src("fid_ignore", r'''
import hexchat

def run(word, word_eol, userdata):
    for text in word_eol[1].split(";"):
        hexchat.prnt("-- %s" % text)
        hexchat.command(text)
    hexchat.prnt("ignore list: %r" % ([(i.mask, i.flags) for i in hexchat.get_list("ignore")],))
    return hexchat.EAT_ALL

hexchat.hook_command("IGN", run)
''')

NIGNORE_SRC = _src("fid_nignore", r'''
import fnmatch
import hexchat

masks = []

def save():
    hexchat.set_pluginpref("fid_nignore_masks", ",".join(masks))

def add(word, word_eol, userdata):
    if len(word) != 2:
        hexchat.command("HELP " + word[0])
        return hexchat.EAT_ALL
    masks.append(word[1])
    hexchat.prnt("mask %s added" % word[1])
    save()
    return hexchat.EAT_ALL

def listing(word, word_eol, userdata):
    hexchat.prnt("masks: " + (", ".join("%d: %s" % (i, m) for i, m in enumerate(masks)) or "none"))
    return hexchat.EAT_ALL

def remove(word, word_eol, userdata):
    if len(word) != 2:
        hexchat.command("HELP " + word[0])
        return hexchat.EAT_ALL
    gone = masks.pop(int(word[1]))
    hexchat.prnt("mask %s removed" % gone)
    save()
    return hexchat.EAT_ALL

def on_nick(word, word_eol, userdata):
    for mask in masks:
        if fnmatch.fnmatch(word[0][1:], mask):
            return hexchat.EAT_ALL
    return hexchat.EAT_NONE

hexchat.hook_server("NICK", on_nick, priority=hexchat.PRI_HIGHEST)
hexchat.hook_command("FNIGNORE", add, help="/FNIGNORE <nick>!<ident>@<host>, hides nick changes")
hexchat.hook_command("FLNIGNORE", listing, help="/FLNIGNORE, lists the masks")
hexchat.hook_command("FUNNIGNORE", remove, help="/FUNNIGNORE <index>, removes a mask")
hexchat.hook_unload(lambda ud: hexchat.prnt("fid_nignore unloaded"))
print("fid_nignore loaded")
''')

ICYCLE_SRC = _src("fid_icycle", r'''
import hexchat

def icycle(word, word_eol, userdata):
    channel = hexchat.get_info("channel")
    hexchat.command("PART " + channel)
    hexchat.command("PRIVMSG chanserv invite " + channel)
    hexchat.command("JOIN" + channel)  # the original's missing space, kept
    return hexchat.EAT_ALL

hexchat.hook_command("FICYCLE", icycle, help="FICYCLE, cycles an invite-only channel")
''')

AUTOAWAY_SRC = _src("fid_autoaway", r'''
import hexchat

try:
    triggers = hexchat.get_pluginpref("fid_away_triggers").split(",")
except AttributeError:
    triggers = ["bbl", "afk", "brb"]
hexchat.set_pluginpref("fid_away_triggers", ",".join(triggers))

def typed(word, word_eol, userdata):
    if word and (word[0].lower().strip(",-_") in triggers or word[-1].lower().strip(",-_") in triggers):
        hexchat.command("AWAY %s" % word_eol[0])
    return hexchat.EAT_NONE

hexchat.hook_command("", typed)
''')

SLAP_SRC = _src("fid_slap", r'''
import hexchat

SLAPS = ["slaps {} around a bit with a large trout", "gives {} a hearty slap"]

def slap(word, word_eol, userdata):
    if len(word) > 1:
        hexchat.command("me " + SLAPS[len(word[1]) % len(SLAPS)].format(word[1]))
    else:
        hexchat.command("help fslap")
    return hexchat.EAT_ALL

hexchat.hook_command("fslap", slap, help="FSLAP <nick>")
hexchat.hook_unload(lambda ud: print("fid_slap unloaded"))
print("fid_slap loaded")
''')


ONOTICE_SRC = _src("fid_onotice", r'''
import json
import hexchat

RESET = "\017"
name = hexchat.get_pluginpref("fid_onotice_name")
pairs = json.loads(hexchat.get_pluginpref("fid_onotice_colors") or "{}")
DEFAULTS = {"fo": [0, 2], "fov": [0, 3], "_time": [0, 12]}

def color(key):
    pair = pairs.get(key) or DEFAULTS.get(key)
    return "\003" + ",".join(str(n).zfill(2) for n in pair) if pair else ""

def who():
    return name if name is not None else hexchat.get_info("nick")

def to_ops(word, word_eol, userdata):
    if len(word) > 1:
        chan = hexchat.get_info("channel")
        hexchat.command("notice @%s %s%s%s %s12:00%s %s" % (
            chan, color(word[0].lower()), userdata.format(who()), RESET, color("_time"), RESET, word_eol[1]))
    else:
        print("Provide a message. Usage: %s <message>" % word[0])
    return hexchat.EAT_HEXCHAT

def set_name(word, word_eol, userdata):
    global name
    if len(word) > 1:
        hexchat.set_pluginpref("fid_onotice_name", word_eol[1])
        name = word_eol[1]
        print("name set to:", who())
    else:
        print("Provide a name. Usage: FO_SETNAME <Name>")
    return hexchat.EAT_ALL

def set_color(word, word_eol, userdata):
    if len(word) < 3 or word[1] not in DEFAULTS:
        print("Usage: FO_SETCOLOR <fo|fov|_time> <fg> [bg]")
        return hexchat.EAT_HEXCHAT
    pairs[word[1]] = [int(n) for n in word[2:4]]
    hexchat.set_pluginpref("fid_onotice_colors", json.dumps(pairs, sort_keys=True))
    print("Preview: %sabc%s" % (color(word[1]), RESET))
    return hexchat.EAT_HEXCHAT

hexchat.hook_command("fo", to_ops, userdata="{} to o", help="FO <message>, a notice to the ops")
hexchat.hook_command("fov", to_ops, userdata="{} to o/v", help="FOV <message>")
hexchat.hook_command("fo_setname", set_name, help="Usage: FO_SETNAME <Name>")
hexchat.hook_command("fo_setcolor", set_color)
print("fid_onotice loaded")
''')

REDIRECT_SRC = _src("fid_redirect", r'''
import hexchat

def on_notice(word, word_eol, userdata):
    nick = word[0][1:].split("!")[0]
    if word[2].startswith("#"):
        return hexchat.EAT_NONE
    target = None
    if nick == "ChanServ" and word[3].startswith(":[#") and word[3].endswith("]"):
        target = word[3][2:-1]
    target = target or nick
    ctx = hexchat.find_context(server=hexchat.get_info("server"), channel=target)
    if not ctx:
        if target.startswith("#"):
            return hexchat.EAT_NONE
        hexchat.command("QUERY -nofocus %s" % target)
        ctx = hexchat.find_context(server=hexchat.get_info("server"), channel=target)
    if ctx:
        ctx.set()

def send_notice(word, word_eol, userdata):
    global notice_hook
    ctx = hexchat.find_context(server=hexchat.get_info("server"), channel=word[1])
    if not ctx:
        if word[1].startswith("#"):
            return hexchat.EAT_NONE
        hexchat.command("QUERY -nofocus %s" % word[1])
        ctx = hexchat.find_context(server=hexchat.get_info("server"), channel=word[1])
    if ctx:
        ctx.set()
        hexchat.unhook(notice_hook)
        ctx.command(word_eol[0])
        notice_hook = hexchat.hook_command("NOTICE", send_notice)
        return hexchat.EAT_ALL

def send_msg(word, word_eol, userdata):
    hexchat.command("QUERY -nofocus %s" % word_eol[1])
    return hexchat.EAT_ALL

hexchat.hook_command("MSG", send_msg)
notice_hook = hexchat.hook_command("NOTICE", send_notice)
hexchat.hook_server("NOTICE", on_notice)
''')


HUG_SRC = _src("fid_hug", r'''
import xchat

def hug(word, word_eol, userdata):
    xchat.command("ME hugs %s" % word_eol[1])  # no argument: IndexError, as the original
    return xchat.EAT_ALL

xchat.hook_command("fhug", hug, help="/FHUG <nick> Sends a hug action")
''')


def _join(nick: str) -> Dict[str, str]:
    return {"server": ":%s!%s@example.org JOIN %s" % (nick, nick, CHANNEL)}


def fidelity_scenarios() -> List[Scenario]:
    scenarios = [
        Scenario("gui_builtins", "fid_gui.py", GUI_SRC, [_cmd("RUN_GUI")]),
        Scenario("chanop_builtins", "fid_chanop.py", CHANOP_SRC, [
            _join("carol"), _join("dave"), _cmd("RUN_CHANOP")]),
        Scenario("builtin_help", "fid_help.py", HELP_SRC, [_cmd("RUN_HELP")]),
        Scenario("set_command", "fid_set.py", SET_SRC, [_cmd("RUN_SET")]),
        Scenario("prefs_id", "fid_prefs_id.py", PREFS_ID_SRC, [_cmd("RUN_IDS")]),
        Scenario("server_echoes", "fid_echoes.py", ECHOES_SRC, [_cmd("RUN_ECHOES"), _cmd("join #test", "ScriptedNet")]),
        Scenario("config_files", "fid_config.py", CONFIG_SRC, [_cmd("RUN_CONFIG")]),
        Scenario("timer_command", "fid_timer.py", TIMER_SRC, [
            _cmd("RUN_TIMER"),
            {"advance": 5100, "until": "timers all done"},
            _cmd("timer"),
        ]),
        Scenario("py_command", "fid_py.py", PY_SRC, [_cmd("RUN_PY")]),
        Scenario("ignore_command", "fid_ignore.py", IGNORE_SRC, [
            _cmd("IGN ignore;ignore carol!*@* CHAN PRIV;ignore carol!*@* ALL;ignore dave NOTI;ignore eve BOGUS;ignore"),
            {"server": ":carol!carol@example.org PRIVMSG #test :carol in the channel"},
            {"server": ":carol!carol@example.org PRIVMSG e2ebot :carol in private"},
            {"server": ":dave!dave@example.org NOTICE e2ebot :dave's notice"},
            {"server": ":dave!dave@example.org PRIVMSG #test :dave in the channel"},
            _cmd("IGN unignore carol!*@*;unignore dave;unignore"),
            {"server": ":carol!carol@example.org PRIVMSG #test :carol again"},
        ]),
        Scenario("nignore", "fid_nignore.py", NIGNORE_SRC, [
            _cmd("FNIGNORE"),
            _cmd("FNIGNORE *!*@spam.example"),
            _join("carol"),
            {"server": ":carol!carol@example.org NICK :carol2"},
            {"server": ":alice!alice@spam.example NICK :alice2"},
            _cmd("FLNIGNORE"),
            _cmd("FUNNIGNORE 0"),
            _cmd("help FNIGNORE"),
        ]),
        Scenario("icycle", "fid_icycle.py", ICYCLE_SRC, [
            _cmd("FICYCLE"), _cmd("help ficycle", "ScriptedNet"), _cmd("join #test", "ScriptedNet")]),
        Scenario("autoaway", "fid_autoaway.py", AUTOAWAY_SRC, [
            {"input": "just talking", "context": CHANNEL},
            {"input": "lunch, brb", "context": CHANNEL},
        ]),
        Scenario("onoticeformat", "fid_onotice.py", ONOTICE_SRC, [
            _cmd("fo hello ops"), _cmd("fo"), _cmd("fo_setname"), _cmd("fo_setname The Boss"),
            _cmd("fov to ops and voices"), _cmd("fo_setcolor fo 4 1"), _cmd("fo_setcolor nope 1"),
            _cmd("onotice the user command"), _cmd("help fo"), _cmd("help fo_setcolor")]),
        Scenario("notice_redirect", "fid_redirect.py", REDIRECT_SRC, [
            _cmd("msg carol hi there"),
            _cmd("notice dave a notice"),
            _cmd("notice #test to the channel"),
            {"server": ":ChanServ!ChanServ@services.example NOTICE e2ebot :[#test] welcome"},
            {"server": ":erin!erin@example.org NOTICE e2ebot :hello from erin"},
            {"server": ":carol!carol@example.org NOTICE e2ebot :back to carol"},
        ]),
        Scenario("hug", "fid_hug.py", HUG_SRC, [_cmd("fhug bob"), _cmd("fhug"), _cmd("help fhug")]),
        Scenario("slap", "fid_slap.py", SLAP_SRC, [_cmd("fslap bob"), _cmd("fslap")]),
    ]
    assert set(SOURCES) == {s.name for s in scenarios}, "every corpus script records its source"
    return scenarios
