"""Hook dispatch semantics (plugin.c's plugin_hook_run / plugin_insert_hook)."""

from hexsandbox.emulator import EAT_ALL, EAT_HEXCHAT, EAT_NONE, EAT_PLUGIN


def test_priority_order_and_same_priority_newest_first(emu, chan):
    calls = []
    emu.hook_command("x", 0, None, lambda w, we, t: calls.append("a0"))
    emu.hook_command("x", 0, None, lambda w, we, t: calls.append("b0"))
    emu.hook_command("x", 64, None, lambda w, we, t: calls.append("hi"))
    emu.hook_command("x", -64, None, lambda w, we, t: calls.append("lo"))
    emu.type("/x", "#chan")
    # HexChat inserts a hook before the first one with priority <= its own
    assert calls == ["hi", "b0", "a0", "lo"]


def test_names_case_insensitive_and_word_lists(emu, chan):
    seen = []
    emu.hook_command("FoO", 0, None, lambda w, we, t: seen.append((w, we)))
    emu.type('/foo  a "b c" d ', "#chan")
    w, we = seen[0]
    assert w == ["foo", "a", "b c", "d"]
    assert we[0] == 'foo  a "b c" d '
    assert we[1] == ' a "b c" d '  # starts after the first space of a run
    assert we[2] == '"b c" d '


def test_eat_semantics(emu, chan):
    calls = []

    def mk(name, ret):
        def cb(w, we, t):
            calls.append(name)
            return ret
        return cb

    emu.hook_command("say", 10, None, mk("p", EAT_PLUGIN))
    emu.hook_command("say", 0, None, mk("never", EAT_NONE))
    before = list(emu.sent)
    emu.type("/say hi", "#chan")
    assert calls == ["p"]
    assert emu.sent[len(before):] == ["PRIVMSG #chan :hi"]  # HexChat still ran it

    calls.clear()
    emu.hook_command("zz", 10, None, mk("h", EAT_HEXCHAT))
    emu.hook_command("zz", 0, None, mk("n", EAT_NONE))
    before = list(emu.sent)
    emu.type("/zz", "#chan")
    assert calls == ["h", "n"]  # EAT_HEXCHAT keeps running hooks
    assert emu.sent == before  # eaten: not sent raw

    calls.clear()
    emu.hook_command("yy", 10, None, mk("all", EAT_ALL))
    emu.hook_command("yy", 0, None, mk("n", EAT_NONE))
    emu.type("/yy", "#chan")
    assert calls == ["all"] and emu.sent == before


def test_print_hook_eats_line(emu, chan):
    emu.hook_print("Channel Message", 0, lambda w, we, t: EAT_HEXCHAT, False)
    emu.feed(":bob!b@h PRIVMSG #chan :secret")
    assert not any("secret" in l for l in emu.lines("#chan"))


def test_unhook_during_dispatch_not_called_again(emu, chan):
    calls = []
    hooks = {}

    def first(w, we, t):
        calls.append("first")
        emu.unhook(hooks["second"])

    hooks["first"] = emu.hook_command("u", 10, None, first)
    hooks["second"] = emu.hook_command("u", 0, None, lambda w, we, t: calls.append("second"))
    emu.type("/u", "#chan")
    emu.type("/u", "#chan")
    assert calls == ["first", "first"]


def test_context_set_and_not_restored(emu, chan):
    seen = []
    server_tab = emu.context_of("irc.test.net")
    emu.set_context(server_tab)
    emu.hook_print("Channel Message", 0, lambda w, we, t: seen.append(emu.get_context()), False)
    emu.feed(":bob!b@h PRIVMSG #chan :x")
    assert seen == [chan]
    assert emu.get_context() == chan  # not restored after the callback


def test_nesting_is_plain_recursion(emu, chan):
    order = []

    def outer(w, we, t):
        order.append("outer-start")
        emu.command("inner")
        order.append("outer-end")
        return EAT_ALL

    emu.hook_command("outer", 0, None, outer)
    emu.hook_command("inner", 0, None, lambda w, we, t: order.append("inner") or EAT_ALL)
    emu.type("/outer", "#chan")
    assert order == ["outer-start", "inner", "outer-end"]


def test_empty_hook_gets_plain_text(emu, chan):
    seen = []
    emu.hook_command("", 0, None, lambda w, we, t: seen.append(w) or EAT_ALL)
    n = len(emu.sent)
    emu.type("hello world", "#chan")
    emu.type("/notsay", "#chan")
    assert seen == [["hello", "world"]]
    assert emu.sent[n:] == ["notsay"]  # unknown command, connected: sent raw


def test_server_hooks_raw_line_word_eol_and_eat(emu, chan):
    seen = []
    emu.hook_server("RAW LINE", 0, lambda w, we, t: seen.append(("raw", w[1])), False)
    emu.hook_server("privmsg", 0, lambda w, we, t: seen.append((w, we)) or EAT_HEXCHAT, False)
    emu.feed(":bob!b@h PRIVMSG #chan :hi there")
    assert ("raw", "PRIVMSG") in seen
    w, we = [s for s in seen if s[0] != "raw"][0]
    assert w == [":bob!b@h", "PRIVMSG", "#chan", ":hi", "there"]
    assert we[0] == ":bob!b@h PRIVMSG #chan :hi there"
    assert we[3] == ":hi there"
    assert not any("hi there" in l for l in emu.lines("#chan"))  # eaten


def test_server_hook_prefixless_and_attrs_time(emu):
    seen = []
    emu.hook_server("PING", 0, lambda w, we, t: seen.append((w, t)), True)
    emu.feed("@time=2024-01-02T03:04:05.000Z PING :abc")
    assert seen == [(["PING", ":abc"], 1704164645)]
    assert emu.sent[-1] == "PONG :abc"


def test_print_hook_words_and_word_eol(emu, chan):
    seen = []
    emu.hook_print("Channel Message", 0, lambda w, we, t: seen.append((w, we, t)), True)
    emu.feed("@time=2024-01-02T03:04:05Z :bob!b@h PRIVMSG #chan :hello  you")
    w, we, t = seen[0]
    assert w == ["bob", "hello  you"]
    assert we == ["bob hello  you", "hello  you"]
    assert t == 1704164645


def test_print_word_eol_with_empty_middle_word(emu, chan):
    seen = []
    emu.hook_print("Channel Message", 0, lambda w, we, t: seen.append((w, we)), False)
    emu.emit_print("Channel Message", ["bob", "", "@"], 0)
    assert seen == [(["bob", "", "@"], ["bob @", "@", "@"])]


def test_timer_context_is_front(emu, chan):
    seen = []
    emu.set_context(emu.context_of("irc.test.net"))
    emu.focus("#chan")
    emu.set_context(emu.context_of("irc.test.net"))
    emu.hook_timer(100, lambda: seen.append(emu.get_context()) and False)
    emu.advance(100)
    assert seen == [chan]
