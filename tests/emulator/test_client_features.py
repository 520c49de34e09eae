"""/set, the config dir, the ignore list, the Timer and Python plugins and the
fake server's echoes (facts from HexChat 2.16.1's source and from running it
and ngircd; see docs/emulator.md)."""

import os
import textwrap

from hexsandbox.emulator import Emulator
from hexsandbox.emulator.fake_server import answers
from hexsandbox.emulator.prefs_table import PREFS
from hexsandbox.emulator.sandbox_loader import SandboxLoader
from hexsandbox.testing import EmulatedClient


def _typed(emu, text, ctx="#chan"):
    n = len(emu.lines(ctx))
    emu.type(text, ctx)
    emu.pump()
    return [line[1:] for line in emu.lines(ctx)[n:]]


def test_set_formats_and_flags(emu, chan):
    assert _typed(emu, "/set away_reason") == ["away_reason" + "." * 18 + ": I'm busy"]
    assert _typed(emu, "/set away_reason Gone fishing") == ["away_reason set to: Gone fishing (was: I'm busy)"]
    assert _typed(emu, "/set irc_hide_version") == ["irc_hide_version" + "." * 13 + ": OFF"]
    assert _typed(emu, "/set irc_hide_version on") == ["irc_hide_version set to: 1 (was: 0)"]
    assert _typed(emu, "/set -quiet irc_hide_version 0") == []
    assert _typed(emu, "/set text_max_lines = 300") == ["text_max_lines set to: 300 (was: 5000)"]
    assert _typed(emu, "/set -or gui_tab_layout 1") == ["gui_tab_layout set to: 3 (was: 2)"]
    assert _typed(emu, "/set -off gui_tab_layout 2") == ["gui_tab_layout set to: 1 (was: 3)"]
    assert _typed(emu, "/set irc_no*") == ["irc_no_hilight" + "." * 15 + ": NickServ,ChanServ,InfoServ,N,Q",
                                           "irc_notice_pos" + "." * 15 + ": 0"]
    assert _typed(emu, "/set no_such_thing") == ["No such variable."]
    assert _typed(emu, "/set -quiet no_such_thing") == []
    assert len(_typed(emu, "/set")) == len(PREFS) == 210
    assert emu.get_prefs("text_max_lines") == 300 and emu.get_prefs("away_reason") == "Gone fishing"


def test_config_dir_is_a_fresh_hexchats(tmp_path):
    emu = Emulator(config_dir=str(tmp_path), nick="me")
    names = sorted(os.listdir(tmp_path))
    assert names == ["addon_checksum.conf", "addons", "chanopt.conf", "hexchat.conf", "ignore.conf",
                     "notify.conf", "servlist.conf", "sound.conf"]
    conf = (tmp_path / "hexchat.conf").read_text().splitlines()
    assert conf[0] == "version = 2.16.1" and len(conf) == 211  # as HexChat wrote it in the probe
    assert "irc_nick1 = me" in conf and "away_reason = I'm busy" in conf and "text_indent = 1" in conf
    assert (tmp_path / "servlist.conf").read_text().startswith("v=2.16.1\n\nN=TestNet\n")
    emu.type("/set -quiet irc_nick1 other")
    assert "irc_nick1 = other" in (tmp_path / "hexchat.conf").read_text().splitlines()


def test_config_dir_keeps_seeded_files(tmp_path):
    (tmp_path / "servlist.conf").write_text("mine\n")
    Emulator(config_dir=str(tmp_path))
    assert (tmp_path / "servlist.conf").read_text() == "mine\n"


def test_ignore_list(emu, chan):
    assert [line.rstrip() for line in _typed(emu, "/ignore")] == [
        " Hostmask                  PRIV NOTI CHAN CTCP DCC  INVI UNIG", "Ignore list is empty.", ""]
    assert _typed(emu, "/ignore carol CHAN") == ["carol!*@* added to ignore list."]
    assert _typed(emu, "/ignore carol!*@* ALL") == ["Ignore on carol!*@* changed."]
    assert _typed(emu, "/ignore eve BOGUS")[0] == "Unknown arg 'BOGUS' ignored."
    n = len(emu.lines("#chan"))
    emu.feed(":carol!c@x PRIVMSG #chan :hidden")
    emu.feed(":dave!d@x PRIVMSG #chan :shown")
    assert [line for line in emu.lines("#chan")[n:]] == ["<dave>\tshown"]
    assert emu.get_list("ignore") == [{"flags": 159, "mask": "carol!*@*"}]  # ALL: PRIV NOTI CHAN CTCP INVI DCC
    assert _typed(emu, "/unignore carol") == ["carol!*@* removed from ignore list."]
    assert emu.get_list("ignore") == []


def test_timer_plugin(emu, chan):
    emu.set_context(chan)
    emu.command("timer -repeat 2 1.9 echo tick")  # (int) 1.9 * 1000: every second
    assert _typed(emu, "/timer") == [" Ref#  Seconds  Repeat  Command ",
                                     "    1      1.0       2  echo tick"]
    emu.advance(1000)
    assert emu.lines("#chan")[-1] == "\ttick"
    emu.advance(1000)
    assert _typed(emu, "/timer")[0] == "No timers installed."
    assert _typed(emu, "/timer -delete 5") == ["No such ref number found."]


def test_py_exec_about_and_help(emu, chan):
    assert _typed(emu, "/py about") == ["HexChat Python interface version 2.0"]
    assert _typed(emu, "/py exec 6 * 7") == ["42"]
    _typed(emu, "/py exec kept = 'yes'")
    assert _typed(emu, "/py exec print('kept is', kept)") == ["kept is yes"]
    assert _typed(emu, "/py unload nothing") == ["Can't find a python plugin with that name"]
    assert _typed(emu, "/py")[0] == "Usage: /PY LOAD   <filename>"
    assert _typed(emu, "/py list") == ["No python modules loaded"]


def test_py_load_list_unload_through_the_sandbox(tmp_path):
    script = tmp_path / "addons" / "pyload_me.py"
    with EmulatedClient(config_dir=str(tmp_path)) as client:
        script.write_text(textwrap.dedent('''
            __module_name__ = "pyload_me"
            __module_version__ = "3"
            __module_description__ = "loaded by /py load"
            import hexchat
            hexchat.prnt("pyload_me says hi")
        '''))
        client.emu.attach_python_loader(SandboxLoader(client.sandbox))
        client.command("py load pyload_me.py")  # relative: under <configdir>/addons
        client.wait_for_line("pyload_me says hi")
        loader = client.emu.python_plugin.loader
        client.wait_for(lambda: loader.loaded()[0][0] == "pyload_me", what="the script's name")
        client.command("py list")
        # list_plugins: columns padded to their widest cell, then an empty line
        assert client.lines()[-4:] == ["Name      Version Filename     Description       ",
                                       "----      ------- --------     -----------       ",
                                       "pyload_me 3       pyload_me.py loaded by /py load",
                                       ""]
        rows = client.emu.python_plugin.loader.loaded()
        assert rows == [("pyload_me", "3", "pyload_me.py", "loaded by /py load")]
        client.command("py unload pyload_me")
        client.wait_for(lambda: not client.sandbox.scripts or all(s.dead for s in client.sandbox.scripts))


def test_fake_server_answers_like_ngircd():
    me, srv, nick = "me!u@h", "irc.x", "me"
    assert answers("PART #c", me, srv, nick) == [":me!u@h PART #c :"]
    assert answers("PART #c :bye", me, srv, nick) == [":me!u@h PART #c :bye"]
    assert answers("KICK #c bob", me, srv, nick) == [":me!u@h KICK #c bob :me"]
    assert answers("AWAY :gone", me, srv, nick) == [":irc.x 306 me :You have been marked as being away"]
    assert answers("AWAY", me, srv, nick) == [":irc.x 305 me :You are no longer marked as being away"]
    assert answers("TOPIC #c", me, srv, nick) == []
    assert answers("MODE #c +b  *!*@h", me, srv, nick) == [":me!u@h MODE #c +b *!*@h"]
    assert answers("MODE #c", me, srv, nick) == [] and answers("PRIVMSG #c :x", me, srv, nick) == []


def test_raw_part_is_echoed_after_the_command(emu, chan):
    emu.set_context(chan)
    emu.command("quote PART #chan :raw")
    assert "You Part with Reason" not in emu.event_names("#chan")  # not yet: the server answers later
    emu.pump()
    assert emu.event_names("#chan")[-1] == "You Part with Reason"


def test_a_parted_tab_has_no_channel_until_it_rejoins(emu, chan):
    # inbound.c clear_channel: sess->channel emptied, the name kept in waitchannel
    emu.set_context(chan)
    emu.command("part")
    emu.pump()
    assert emu.get_info("channel") == ""
    assert emu.find_context(None, "#chan") is None
    assert emu.lines("#chan")[-1].startswith("*\tYou have left channel #chan")
    emu.command("join #chan")          # not found as a channel: HexChat sends JOIN
    assert emu.sent[-1] == "JOIN #chan"
    emu.pump()
    assert emu.context_of("#chan") == chan and emu.get_info("channel") == "#chan"
