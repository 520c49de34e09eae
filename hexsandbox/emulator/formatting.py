"""Text handling the way HexChat 2.16 does it: word splitting, stripping,
event formats.

Behaviour is modelled on HexChat's ``process_data_init`` (outbound.c),
``strip_color2`` (util.c), ``check_special_chars`` (outbound.c) and the event
formatter in text.c; the code here is an independent re-implementation.
"""

from __future__ import annotations

import re

from typing import List, Sequence, Tuple

#: HexChat keeps 32 word slots; plugins see slots 1..31.
PDIWORDS = 32

STRIP_COLOR = 1
STRIP_ATTRIB = 2
STRIP_HIDDEN = 4
STRIP_ALL = 7

#: The invisible-text marker %H becomes in event formats.
HIDDEN_CHAR = "\x08"

_ATTRS = "\x07\x0f\x16\x02\x1f\x1e\x1d"


def split_words(text: str, handle_quotes: bool = False,
                allow_escape_quotes: bool = False) -> Tuple[List[str], List[str]]:
    """Split like ``process_data_init``: returns 1-based-style lists without
    HexChat's slot 0, i.e. ``(word[1..31], word_eol[1..31])``, each 31 long.

    Runs of spaces separate words; ``word_eol[i]`` starts right after the
    first space of the run (so it may start with spaces). With quotes, a
    double quote groups words and is dropped from ``word`` (not from
    ``word_eol``); with escape quotes ``""`` is a literal quote.
    """
    words: List[List[str]] = [[]]
    eols: List[str] = [text]
    space = False
    quote = False
    i = 0
    n = len(text)
    cur = words[0]
    full = False  # slots exhausted: keep writing into a buffer nobody reads
    while i < n:
        ch = text[i]
        if ch == '"' and handle_quotes:
            if allow_escape_quotes and i + 1 < n and text[i + 1] == '"':
                i += 1
                space = False
                if not full:
                    cur.append('"')
                i += 1
                continue
            if quote:
                quote = False
                space = False
            else:
                quote = True
            i += 1
            continue
        if ch == " " and not quote:
            if not space:
                if len(words) < PDIWORDS - 1:
                    cur = []
                    words.append(cur)
                    eols.append(text[i + 1:])
                else:
                    full = True
                space = True
            i += 1
            continue
        space = False
        if not full:
            cur.append(ch)
        i += 1
    word = ["".join(w) for w in words]
    word += [""] * (PDIWORDS - 1 - len(word))
    eols += [""] * (PDIWORDS - 1 - len(eols))
    return word, eols


def trim_words(words: Sequence[str]) -> List[str]:
    """The Python plugin's ``create_wordlist``: cut at the last non-empty slot."""
    last = 0
    for idx in range(len(words) - 1, -1, -1):
        if words[idx]:
            last = idx + 1
            break
    return list(words[:last])


def print_word_eol(words: Sequence[str]) -> List[str]:
    """The Python plugin's ``create_wordeollist`` for print hooks.

    Walking backwards, each non-empty word is prepended (with a space) to the
    accumulation; an empty word repeats the accumulation unchanged.
    """
    accum = None
    out: List[str] = []
    for word in reversed(words):
        if accum is None:
            accum = word
        elif word:
            accum = word + " " + accum
        out.insert(0, accum)
    return out


def strip(text: str, length: int = -1, flags: int = 3) -> str:
    """``hexchat_strip`` / ``strip_color2``: operates on UTF-8 bytes, so
    ``length`` counts bytes as in C."""
    src = text.encode("utf-8", "surrogateescape")
    if length == -1 or length is None:
        length = len(src)
    src = src[:max(length, 0)]
    out = bytearray()
    rcol = 0
    bgcol = 0
    n = len(src)
    for i in range(n):
        c = src[i]
        nxt = src[i + 1] if i + 1 < n else 0
        isdig = 48 <= c <= 57
        if rcol > 0 and (isdig or (c == 44 and 48 <= nxt <= 57 and not bgcol)):
            if nxt != 44:
                rcol -= 1
            if c == 44:
                rcol = 2
                bgcol = 1
            continue
        rcol = bgcol = 0
        if c == 3:
            if flags & STRIP_COLOR:
                rcol = 2
                continue
        elif c == 8:
            if flags & STRIP_HIDDEN:
                continue
        elif chr(c) in _ATTRS:
            if flags & STRIP_ATTRIB:
                continue
        out.append(c)
    return out.decode("utf-8", "replace")


def special_chars(fmt: str) -> str:
    """``check_special_chars`` with ascii on: %C %B %U %R %I %S %O %H %% and
    %NNN (a character code)."""
    out: List[str] = []
    i = 0
    n = len(fmt)
    codes = {"R": "\x16", "U": "\x1f", "B": "\x02", "I": "\x1d", "S": "\x1e",
             "C": "\x03", "O": "\x0f", "H": HIDDEN_CHAR, "%": "%"}
    while i < n:
        ch = fmt[i]
        if ch == "%":
            if i + 3 < n and fmt[i + 1:i + 4].isdigit():
                out.append(chr(int(fmt[i + 1:i + 4]) & 0xFF))
                i += 4
                continue
            nxt = fmt[i + 1] if i + 1 < n else ""
            if nxt in codes and nxt:
                out.append(codes[nxt])
                i += 2
                continue
            out.append("%")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def format_event(fmt: str, nargs: int, args: Sequence[str], indent: bool = True) -> str:
    """Render an event format with its arguments, as text.c does.

    ``$t`` becomes a tab (the left/right column split, with text_indent on),
    ``$N`` the Nth argument with hidden-text markers removed, ``$$`` a dollar,
    ``$aNNN`` a character. An argument beyond the event's count is dropped.
    Returns '' when the event prints nothing.
    """
    s = special_chars(fmt)
    out: List[str] = []
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if i + 1 < n and s[i + 1] == "$":
            out.append("$")
            i += 1  # HexChat reads the second '$' again as an escape start
            continue
        if i + 1 >= n:
            return ""
        d = s[i + 1]
        i += 2
        if d == "a":
            try:
                out.append(chr(int(s[i:i + 3])))
            except ValueError:
                return ""
            i += 3
        elif d == "t":
            out.append("\t" if indent else " ")
        elif "1" <= d <= "9":
            idx = int(d)
            if idx - 1 > nargs:
                continue
            arg = args[idx - 1] if idx - 1 < len(args) else ""
            out.append((arg or "").replace(HIDDEN_CHAR, ""))
        else:
            return ""
    text = "".join(out)
    if text.startswith("\n"):
        return ""
    return text


def nick_color(nick: str) -> int:
    """``text_color_of``: the colour HexChat gives a nick when colouring nicks."""
    colors = (19, 20, 22, 24, 25, 26, 27, 28, 29)
    total = sum(b if b < 128 else b - 256 for b in nick.encode("utf-8"))
    return colors[total % len(colors)]


def atoi(s: str) -> int:
    """C ``atoi``: leading spaces, a sign, the digits that follow; else 0."""
    m = re.match(r"\s*([+-]?\d+)", s)
    return int(m.group(1)) if m else 0


def colon(s: str) -> str:
    """A trailing IRC parameter without its ':'."""
    return s[1:] if s.startswith(":") else s
