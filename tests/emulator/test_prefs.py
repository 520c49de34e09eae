"""get_prefs types/defaults and the pluginpref file (plugin.c behaviour)."""

import os


def test_get_prefs_types_and_defaults(emu):
    assert emu.get_prefs("irc_nick1") == "tester"
    assert emu.get_prefs("input_command_char") == "/"
    assert emu.get_prefs("away_reason") == "I'm busy"
    assert emu.get_prefs("gui_autoopen_dialog") == 1  # bool -> int
    assert emu.get_prefs("text_max_lines") == 5000
    assert emu.get_prefs("IRC_NICK1") == "tester"  # case-insensitive
    assert emu.get_prefs("no_such_pref") is None
    assert emu.get_prefs("id") == 0  # server.c: the first server is id 0
    assert isinstance(emu.get_prefs("state_cursor"), int)


def test_pluginpref_file_format(emu):
    assert emu.set_pluginpref("a", "x y")
    assert emu.set_pluginpref("n", 42)
    assert emu.set_pluginpref("a", "z")  # replaced in place
    path = os.path.join(emu.config_dir, "addon_python.conf")
    assert open(path).read() == "a = z\nn = 42\n"
    assert emu.list_pluginpref() == ["a", "n", ""]  # HexChat's trailing ','
    assert emu.del_pluginpref("a") and open(path).read() == "n = 42\n"
    assert emu.del_pluginpref("missing") is True


def test_pluginpref_type_guessing(emu):
    emu.set_pluginpref("i", 7)
    emu.set_pluginpref("neg", -1)
    emu.set_pluginpref("s", "hello")
    emu.set_pluginpref("digits", "0123")
    emu.set_pluginpref("long", "1234567890123")
    emu.set_pluginpref("zero", "0abc")
    emu.set_pluginpref("b", True)
    assert emu.get_pluginpref("i") == 7
    assert emu.get_pluginpref("neg") == -1
    assert emu.get_pluginpref("s") == "hello"
    assert emu.get_pluginpref("digits") == 123
    assert emu.get_pluginpref("long") == "1234567890123"  # > 12 chars: str
    assert emu.get_pluginpref("zero") == 0  # atoi, starts with '0'
    assert emu.get_pluginpref("b") == 1
    assert emu.get_pluginpref("nothing") is None
    assert emu.set_pluginpref("f", 1.5) is False


def test_pluginpref_escaping_and_limits(emu):
    emu.set_pluginpref("u", "é\n\"x\"")
    path = os.path.join(emu.config_dir, "addon_python.conf")
    assert open(path, "rb").read() == b'u = \\303\\251\\n\\"x\\"\n'
    assert emu.get_pluginpref("u") == "é\n\"x\""
    emu.set_pluginpref("big", "x" * 600)
    got = emu.get_pluginpref("big")
    assert got == "x" * len(got) and len(got) < 512


def test_pluginpref_list_limit(emu):
    for i in range(600):
        emu.set_pluginpref("name%03d" % i, i)
    names = emu.list_pluginpref()
    assert len(",".join(names)) == 4095
