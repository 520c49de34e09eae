"""hexsandbox.never_eats: the conservative proof that a callback never eats."""

import types

from hexsandbox.never_eats import never_eats

#: Stands in for the hexchat module: the bytecode reads it as a global either way.
hexchat = types.SimpleNamespace(EAT_NONE=0, EAT_ALL=3, prnt=lambda text: None)


def implicit(word, word_eol, userdata):
    print(word)


def explicit_none(word, word_eol, userdata):
    if word:
        return None
    return 0


def eat_none(word, word_eol, userdata):
    return hexchat.EAT_NONE


def eats(word, word_eol, userdata):
    return hexchat.EAT_ALL


def maybe(word, word_eol, userdata):
    return 3 if word else None


def computed(word, word_eol, userdata):
    value = 0
    return value


def generator(word, word_eol, userdata):
    yield 0


def test_callbacks_that_provably_never_eat():
    assert never_eats(implicit)
    assert never_eats(explicit_none)
    assert never_eats(eat_none)
    assert never_eats(lambda word, word_eol, userdata: None)


def test_anything_else_is_not_proven():
    assert not never_eats(eats)
    assert not never_eats(maybe), "a computed branch reaches the return"
    assert not never_eats(computed), "a variable could be anything"
    assert not never_eats(generator)
    assert not never_eats(print), "no bytecode to read"
    assert not never_eats(lambda word, word_eol, userdata: hexchat.prnt("x") or 3)
