"""The script author's test shown in README.md, verbatim, so the README stays true."""


def test_greets_people_who_join(hexchat_client):
    hexchat_client.load("scripts/examples/greeter.py")
    hexchat_client.feed(":carol!carol@example.org JOIN #test")
    assert any(line.startswith("PRIVMSG #test :") and "carol" in line
               for line in hexchat_client.sent)


def test_timers_use_the_virtual_clock(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "ticker"
        import hexchat
        hexchat.hook_timer(1000, lambda ud: hexchat.prnt("tick") or True)
    ''')
    hexchat_client.advance(3000)           # no real waiting
    assert hexchat_client.lines("#test").count("tick") == 3
