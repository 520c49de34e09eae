"""Typed input and built-in commands: raw lines sent and local events."""


def sent_after(emu, fn):
    n = len(emu.sent)
    fn()
    return emu.sent[n:]


def test_say_prints_your_message(emu, chan):
    assert sent_after(emu, lambda: emu.type("hi all", "#chan")) == ["PRIVMSG #chan :hi all"]
    assert emu.event_names("#chan")[-1] == "Your Message"
    assert emu.lines("#chan")[-1] == "<tester>\thi all"
    assert sent_after(emu, lambda: emu.type("//slash", "#chan")) == ["PRIVMSG #chan :/slash"]


def test_builtins_raw_output(emu, chan):
    t = lambda s: sent_after(emu, lambda: emu.type(s, "#chan"))
    assert t("/me dances") == ["PRIVMSG #chan :\x01ACTION dances\x01"]
    assert t("/msg bob yo") == ["PRIVMSG bob :yo"]
    assert emu.event_names("#chan")[-1] == "Message Send"
    assert t("/notice bob hey") == ["NOTICE bob :hey"]
    assert emu.event_names("#chan")[-1] == "Notice Send"
    assert t("/topic hello") == ["TOPIC #chan :hello"]
    assert t("/mode +m") == ["MODE #chan +m"]
    assert t("/kick bob bye") == ["KICK #chan bob :bye"]
    assert t("/away brb") == ["AWAY :brb"]
    assert emu.get_info("away") is None  # away once the server's 306 is in
    emu.pump()
    assert emu.get_info("away") == "brb"
    assert t("/back") == ["AWAY"]
    emu.pump()
    assert emu.get_info("away") is None
    assert t("/quote PRIVMSG x :y") == ["PRIVMSG x :y"]
    assert t("/raw FOO") == ["FOO"]
    assert t("/ctcp bob version") == ["PRIVMSG bob :\x01VERSION\x01"]
    # the fake server echoes the JOIN (once the command is done); HexChat
    # then asks for MODE and WHO
    assert t("/join #two") == ["JOIN #two"]
    assert sent_after(emu, emu.pump) == ["MODE #two", "WHO #two"]
    assert emu.context_alive(emu.context_of("#two"))
    assert t("/part #two") == ["PART #two :Leaving"]
    assert t("/nick newme") == ["NICK newme"]
    emu.pump()
    assert emu.get_info("nick") == "newme"


def test_ban_uses_host(emu):
    emu.join("#b", users=["bob"])
    emu.feed(":irc.test.net 353 newme = #b :bob")
    emu.feed(":bob!~bob@host.example JOIN #b")
    # create_mask's "%s %s %s" with an empty nick part: two spaces, as HexChat sends it
    assert sent_after(emu, lambda: emu.type("/ban bob", "#b")) == ["MODE #b +b  *!*@host.example"]


def test_query_opens_tab(emu):
    assert sent_after(emu, lambda: emu.type("/query dave hi")) == ["PRIVMSG dave :hi"]
    assert emu.event_names("dave")[-1] == "Your Message"
    assert emu.front_context() == emu.context_of("dave")


def test_echo_close_gui(emu, chan):
    emu.type("/echo hello", "#chan")
    assert emu.lines("#chan")[-1] == "\thello"
    emu.set_context(emu.context_of("irc.test.net"))
    emu.command("gui focus")
    assert emu.front_context() == emu.context_of("irc.test.net")
    emu.type("/close", "#chan")
    assert not emu.context_alive(chan)


def test_unknown_command_offline_and_online(tmp_path):
    from hexsandbox.emulator import Emulator
    e = Emulator(config_dir=str(tmp_path))
    e.type("/frobnicate")
    assert e.lines()[-1] == "\tUnknown Command frobnicate. Try /help"
    e.connect()
    assert sent_after(e, lambda: e.type("/frobnicate now")) == ["frobnicate now"]


def test_server_replays_registration(emu, chan):
    n = len(emu.sent)
    emu.type("/server irc.test.net")
    assert "CAP LS 302" in emu.sent[n:]
    assert emu.get_info("server") == "irc.test.net"


def test_set_shows_a_variable_like_hexchat(emu):
    emu.type("/set irc_nick1")
    # set_showval: dots to column 29, then ": value" (colour codes stripped)
    assert emu.lines()[-1] == "\tirc_nick1" + "." * 20 + ": tester"
