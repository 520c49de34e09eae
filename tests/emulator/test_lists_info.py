"""get_list fields/types, get_info keys, find_context, nickcmp, strip."""

from hexsandbox.emulator.lists import FIELDS
import pytest


def test_channels_list_fields_and_types(emu, chan):
    rows = emu.get_list("channels")
    assert [list(r) for r in rows] == [FIELDS["channels"]] * len(rows)
    row = [r for r in rows if r["channel"] == "#chan"][0]
    assert row["context"] == chan and row["type"] == 2 and row["users"] == 3
    for f in ("channel", "channelkey", "chanmodes", "chantypes", "network", "nickmodes",
              "nickprefixes", "server"):
        assert isinstance(row[f], str)
    for f in ("flags", "id", "lag", "maxmodes", "queue", "type", "users"):
        assert isinstance(row[f], int)
    assert row["flags"] & 1 and row["flags"] & 8  # connected, end of motd
    assert rows[-1]["type"] == 1  # newest tab first: the server tab is last


def test_users_list(emu, chan):
    emu.set_context(chan)
    users = emu.get_list("users")
    assert [list(u) for u in users] == [FIELDS["users"]] * 3
    assert [(u["nick"], u["prefix"]) for u in users] == [("alice", "@"), ("bob", ""), ("tester", "")]
    emu.feed(":carol!c@host.example JOIN #chan")
    carol = [u for u in emu.get_list("users") if u["nick"] == "carol"][0]
    assert carol["host"] == "c@host.example"


def test_unknown_list(emu):
    with pytest.raises(KeyError, match="list not available"):
        emu.get_list("nope")
    assert emu.get_list("dcc") == [] and emu.get_list("notify") == []


def test_get_info(emu, chan):
    emu.set_context(chan)
    assert emu.get_info("channel") == "#chan"
    assert emu.get_info("nick") == "tester"
    assert emu.get_info("network") == "TestNet"
    assert emu.get_info("server") == "irc.test.net"
    assert emu.get_info("topic") == "the topic"
    assert emu.get_info("away") is None
    assert emu.get_info("version") == "2.16.1"
    assert emu.get_info("configdir") == emu.config_dir
    assert emu.get_info("event_text Channel Message") == "%C18%H<%H$4$1%C18%H>%H%O$t$2"
    assert emu.get_info("win_ptr").startswith("0x")
    assert emu.get_info("bogus") is None


def test_find_context(emu, chan):
    assert emu.find_context(None, "#CHAN") == chan
    assert emu.find_context("TestNet", "#chan") == chan
    assert emu.find_context("irc.test.net", None) is not None
    assert emu.find_context(None, None) == emu.front_context()
    assert emu.find_context("othernet", "#chan") is None


def test_nickcmp_rfc1459(emu):
    assert emu.nickcmp("Foo[]", "foo{}") == 0
    assert emu.nickcmp("a", "b") < 0


def test_strip(emu):
    s = "\x0304,12red\x03 \x02bold\x02 \x1funder"
    assert emu.strip(s, -1, 3) == "red bold under"
    assert emu.strip(s, -1, 1) == "red \x02bold\x02 \x1funder"
    assert emu.strip(s, -1, 2) == "\x0304,12red\x03 bold under"
    assert emu.strip("\x031,2,3x", -1, 1) == ",3x"
    assert emu.strip("abcdef", 3, 3) == "abc"


def test_set_context_closed(emu, chan):
    emu.type("/close", "#chan")
    assert not emu.context_alive(chan)
    assert emu.set_context(chan) is False


def test_plugingui(emu):
    h = emu.plugingui_add("a.py", "A", "desc", "1")
    assert emu.plugin_gui[0]["name"] == "A"
    emu.plugingui_remove(h)
    assert emu.plugin_gui == []
