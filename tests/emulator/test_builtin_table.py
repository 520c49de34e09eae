"""HexChat's command table (src/common/outbound.c ``xc_cmds``), walked: every
built-in is either emulated or refused the way HexChat refuses it, and none
goes to the server as the raw line the user typed."""

import pytest

from hexsandbox.emulator import Emulator
from hexsandbox.emulator.builtin_table import BUILTINS, EMULATED, FRONT_END, NOT_MODELLED
from hexsandbox.emulator.commands import NOT_CONNECTED, _handlers

#: Commands that are IRC commands of the same name: their own word may lead
#: the line HexChat sends (``/join #x`` -> ``JOIN #x``).
SAME_NAME_ON_THE_WIRE = {"AWAY", "INVITE", "JOIN", "KICK", "LIST", "MODE", "NAMES", "NICK",
                         "NOTICE", "PART", "PING", "QUIT", "TOPIC"}
#: HexChat's refusals that are not a usage line, for a bare call.
BARE_REFUSALS = {"QUIET": ["Quiet is not supported by this server."],
                 "UNQUIET": ["Quiet is not supported by this server."],
                 "BACK": ["Already marked back."],
                 "UNLOAD": ["No such plugin found.", "Usage: UNLOAD <name>, unloads a plugin or script"],
                 "RELOAD": ["No such plugin found.", "Usage: RELOAD <name>, reloads a plugin or script"]}


def test_the_table_is_hexchats():
    names = list(BUILTINS)
    assert len(names) == 96                                  # HexChat 2.16.1 on Linux with OpenSSL
    assert names == sorted(names, key=str.lower)             # find_internal_command bsearches it
    assert {"MENU", "TRAY", "GUI", "QUIET", "KICKBAN", "IGNORE", "SET", "NEWSERVER"} <= set(names)
    assert "TIMER" not in BUILTINS and "PY" not in BUILTINS  # plugins' commands, not built-ins
    handlers = _handlers()
    assert {b.name.lower() for b in BUILTINS.values() if b.how == EMULATED} == set(handlers)
    assert BUILTINS["NOTICE"].help == "NOTICE <nick/channel> <message>, sends a notice"
    assert not BUILTINS["JOIN"].handle_quotes and BUILTINS["KICK"].needchannel


def _fresh(tmp_path, name):
    emu = Emulator(config_dir=str(tmp_path / name))
    emu.connect()
    emu.join("#chan", users=["@alice", "bob"])
    emu.pump()
    return emu


def _run(emu, text):
    chan = emu.context_of("#chan")
    before_lines, before_sent = len(emu.lines(chan)), len(emu.sent)
    emu.type(text, chan)
    emu.pump()
    printed = emu.lines(chan)[before_lines:] if emu.context_alive(chan) else ["<closed>"]
    return printed, emu.sent[before_sent:]


@pytest.mark.parametrize("name", list(BUILTINS))
def test_each_builtin_is_emulated_or_refused_like_hexchat(tmp_path, name):
    row = BUILTINS[name]
    emu = _fresh(tmp_path, name)
    printed, sent = _run(emu, "/" + name.lower())
    usage = ["\tUsage: %s" % line if i == 0 else "\t" + line
             for i, line in enumerate((row.help or "").split("\n"))]
    # never the typed text as a raw line
    assert not any(line.upper().startswith(name + " ") or line.upper() == name for line in sent
                   if name not in SAME_NAME_ON_THE_WIRE), sent
    if name == "CLOSE":
        assert printed == ["<closed>"] and sent == ["PART #chan :Leaving"]
    if row.how == NOT_MODELLED:
        assert printed[-1:] == ["\thexsandbox emulator: /%s is not emulated" % name] or \
            printed == usage, printed
        assert sent == []
    elif row.how == FRONT_END:
        assert sent == ([] if name != "LIST" else ["LIST"])
        assert printed in ([], usage), printed
        assert bool(emu.gui_actions) == (printed == []), emu.gui_actions
    if printed and printed[0].startswith("\tUsage:"):
        assert printed == usage, "a refusal prints HexChat's whole usage text"
    if name in BARE_REFUSALS:
        assert [line[1:] for line in printed] == BARE_REFUSALS[name]


def test_needserver_refusal(tmp_path):
    emu = Emulator(config_dir=str(tmp_path))
    emu.type("/kick bob")
    assert emu.lines()[-1] == "\t" + NOT_CONNECTED
    assert emu.sent == []


def test_help_texts(emu, chan):
    printed, _ = _run(emu, "/help NOTICE")
    assert printed == ["\tUsage: NOTICE <nick/channel> <message>, sends a notice"]
    printed, sent = _run(emu, "/notice")
    assert printed == ["\tUsage: NOTICE <nick/channel> <message>, sends a notice"] and sent == []
    assert _run(emu, "/help debug")[0] == ["\t", "\tNo help available on that command."]
    assert _run(emu, "/help frob")[0] == ["\tNo such command."]
    assert _run(emu, "/help dialog")[0] == ["\tUser Command for: query %2"]
    assert _run(emu, "/help timer")[0][0] == "\tUsage: TIMER [-refnum <num>] [-repeat <num>] <seconds> <command>"
    listing, _ = _run(emu, "/help")
    assert "\t  ADDBUTTON ADDSERVER ALLCHAN   ALLCHANL  ALLSERV" in listing


def test_gui_only_commands_are_recorded(emu, chan):
    for text in ('/menu add "$TAB/Item" "echo hi"', "/tray -t tip", "/gui flash", "/settab x"):
        assert _run(emu, text) == ([], [])
    assert [(a[1], a[2]) for a in emu.gui_actions] == [
        ("MENU", 'add "$TAB/Item" "echo hi"'), ("TRAY", "-t tip"), ("GUI", "flash"), ("SETTAB", "x")]
    assert _run(emu, "/tray -b title text")[0][0].startswith("\tUsage: ")  # cmd_tray has no -b
    assert _run(emu, "/gui bogus")[0][0] == "\tUsage: GUI [APPLY|ATTACH|DETACH|SHOW|HIDE|FOCUS|FLASH|ICONIFY]"


def test_user_commands(emu, chan):
    assert _run(emu, "/raw PRIVMSG x :y")[1] == ["PRIVMSG x :y"]
    assert _run(emu, "/raw")[0] == ["\tBad arguments for user command."]
    assert _run(emu, "/banlist")[1] == ["MODE #chan +b"]
    emu.type("/dialog carol", "#chan")
    assert emu.front_context() == emu.context_of("carol")


def test_chanop_commands(emu, chan):
    emu.feed(":carol!~carol@host.example JOIN #chan")
    assert _run(emu, "/ban carol 3")[1] == ["MODE #chan +b  *!*carol@host.example"]
    assert _run(emu, "/kickban carol go")[1] == ["MODE #chan +b  *!*@host.example", "KICK #chan carol :go"]
    # alice is an op without a known host: deop+ban of the bare nick; "2" is a ban type
    assert _run(emu, "/kickban alice 2")[1] == ["MODE #chan -o+b alice", "KICK #chan alice"]
    assert _run(emu, "/ban carol")[1] == ["MODE #chan +b carol"]  # kicked: no host known any more
    # MODES=4 from the 005 of emu.connect(): batches of four
    assert _run(emu, "/unban a b c d e")[1] == ["MODE #chan -bbbb a b c d", "MODE #chan -b e"]
    assert _run(emu, "/quiet bob")[0] == ["\tQuiet is not supported by this server."]
    emu.feed(":irc.test.net 005 tester CHANMODES=bq,k,l,imnpst :are supported")
    assert _run(emu, "/quiet bob")[1] == ["MODE #chan +q bob"]
    assert _run(emu, "/voice alice bob")[1] == ["MODE #chan +vv alice bob"]


def test_newserver_noconnect_opens_a_tab_named_after_the_host(emu):
    # probed on HexChat 2.16.1: ('diffnet.example', type 1, id 1, network 'diffnet.example', server '')
    emu.type("/newserver -noconnect diffnet.example")
    rows = [(c["channel"], c["type"], c["id"], c["network"], c["server"]) for c in emu.get_list("channels")]
    assert ("diffnet.example", 1, 1, "diffnet.example", "") in rows
    assert not any(r[0] == "-noconnect" for r in rows)
    assert emu.get_prefs("id") == 0
