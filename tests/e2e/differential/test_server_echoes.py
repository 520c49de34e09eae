"""The scripted server and the emulator's fake server answer a client's lines
the way a real ngircd does (the same command sequence on all three).

Compared per line sent: the answers, each as (from us or from the server,
command, parameters). Left out: PONGs of the sync, and the names list and
end-of-names after a JOIN (who else is in the channel differs by
construction, as does the 366 text, which HexChat never shows).
"""

from typing import List, Tuple

from harness import IrcUser

from hexsandbox.emulator.fake_server import answers

NICK = "e2ebot"
SEQUENCE = [
    "KICK #test alice :not welcome",
    "KICK #test bob",
    "AWAY :gone fishing",
    "AWAY :still gone",
    "AWAY",
    "AWAY",
    "TOPIC #test :a new topic",
    "MODE #test +b  *!*@example.org",   # HexChat's create_mask spacing
    "MODE #test +l 5",
    "MODE #test +m",
    "PRIVMSG #test :not echoed",
    "NICK e2ebot2",
    "NICK e2ebot",
    "PART #test :raw part",
    "JOIN #test",
    "PART #test",
]

Answer = Tuple[str, str, Tuple[str, ...]]


def _shape(raw: str, nick: str) -> Answer:
    prefix = ""
    if raw.startswith(":"):
        prefix, raw = raw[1:].split(" ", 1)
    head, sep, trailing = raw.partition(" :")
    parts = head.split()
    params = parts[1:] + ([trailing] if sep else [])
    who = "us" if prefix.split("!")[0] in (nick, NICK + "2") else "server"
    return who, parts[0].upper(), tuple(params)


def _keep(shaped: List[Answer], line: str) -> List[Answer]:
    out = [a for a in shaped if a[1] != "PONG"]
    if line.startswith("JOIN"):
        out = [a for a in out if a[1] == "JOIN"]
    return out


def _play(host: str, port: int, members: bool) -> List[List[Answer]]:
    me = IrcUser(host, port, NICK).connect()
    others = []
    try:
        me.join("#test")
        if members:  # ngircd only kicks people who are there
            for nick in ("alice", "bob"):
                user = IrcUser(host, port, nick).connect()
                user.join("#test")
                others.append(user)
        me.sync()
        out = []
        for line in SEQUENCE:
            mark = me.mark()
            me.send(line)
            me.sync()
            out.append(_keep([_shape(m.raw, NICK) for m in me.received[mark:]], line))
        return out
    finally:
        for user in others + [me]:
            user.close()


def _emulated() -> List[List[Answer]]:
    out = []
    nick = NICK
    for line in SEQUENCE:
        got = answers(line, "%s!e2e@127.0.0.1" % nick, "irc.emulated", nick)
        out.append(_keep([_shape(a, nick) for a in got], line))
        if line.startswith("NICK "):
            nick = line.split()[1]
    return out


def test_scripted_server_and_emulator_echo_like_ngircd(ngircd, scripted_server):
    real = _play(ngircd.host, ngircd.port, members=True)
    scripted = _play(scripted_server.host, scripted_server.port, members=False)
    emulated = _emulated()
    table = list(zip(SEQUENCE, real, scripted, emulated))
    assert [(line, s) for line, _r, s, _e in table] == [(line, r) for line, r, _s, _e in table]
    assert [(line, e) for line, _r, _s, e in table] == [(line, r) for line, r, _s, _e in table]
    # and the facts the emulator's docs state
    assert real[1] == [("us", "KICK", ("#test", "bob", NICK))]
    assert real[4] == [("server", "305", (NICK, "You are no longer marked as being away"))]
    assert real[13] == [("us", "PART", ("#test", "raw part"))]
    assert real[10] == []
