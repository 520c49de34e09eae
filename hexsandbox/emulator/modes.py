"""Channel modes, as modes.c handles them: the per-mode text events of a MODE
line (ops and voices grouped into one event), the user list's prefixes, and
the channel's mode string (``get_info('modes')``) edited in place like
``record_chan_mode``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List

from . import formatting

from .state import Server, Session

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator






#: Modes whose changes HexChat collects into one line per MODE message
#: ('Channel Operator'/'Channel Voice' events with all the nicks).
_GROUPED_MODES: Dict[tuple, str] = {
    ("+", "o"): "op", ("+", "v"): "voice", ("-", "o"): "deop", ("-", "v"): "devoice",
}

#: The text event HexChat's handle_single_mode emits for a channel mode;
#: anything else is 'Channel Mode Generic'.
_MODE_EVENTS: Dict[tuple, str] = {
    ("+", "k"): "Channel Set Key", ("+", "l"): "Channel Set Limit",
    ("+", "h"): "Channel Half-Operator", ("+", "b"): "Channel Ban",
    ("+", "e"): "Channel Exempt", ("+", "I"): "Channel INVITE",
    ("-", "k"): "Channel Remove Keyword", ("-", "l"): "Channel Remove Limit",
    ("-", "h"): "Channel DeHalfOp", ("-", "b"): "Channel UnBan",
    ("-", "e"): "Channel Remove Exempt", ("-", "I"): "Channel Remove Invite",
    ("+", "q"): "Channel Quiet", ("-", "q"): "Channel UnQuiet",  # where q is a list mode
}


def handle_mode(emu: "Emulator", serv: Server, word: List[str], word_eol: List[str], nick: str,
                stamp: int, numeric_324: bool = False) -> None:
    """``handle_mode`` (modes.c): per-mode events, ops/voices grouped."""
    offset = 3 if numeric_324 else 2
    chan = word[offset]
    modes = formatting.colon(word[offset + 1])
    if not modes:
        return
    sess = emu.find_channel(serv, chan)
    using_front = sess is None
    if sess is None:
        sess = emu.sessions.get(serv.front_session) or emu.sessions[serv.server_session]
    raw = word_eol[offset].rstrip(" ") if word_eol[offset].endswith(" ") else word_eol[offset]
    raw_modes = bool(emu.prefs.get("irc_raw_modes"))
    if raw_modes:
        emu.emit(sess, "Raw Modes", nick, raw, stamp=stamp)
    args: List[str] = []
    for i in range(offset + 2, len(word)):
        if not word[i]:
            break
        args.append(word[i])
        if word[i].startswith(":"):
            break
    num_modes = sum(1 for c in modes[1:] if c not in "+-")
    all_have_args = len(args) == num_modes
    sign = modes[0]
    group: Dict[str, List[str]] = {"op": [], "deop": [], "voice": [], "devoice": []}

    def flush() -> None:
        for key, event in (("op", "Channel Operator"), ("deop", "Channel DeOp"),
                           ("voice", "Channel Voice"), ("devoice", "Channel DeVoice")):
            if group[key]:
                emu.emit(sess, event, nick, " ".join(group[key]), stamp=stamp)
                group[key] = []

    argi = 0
    for mode in modes[1:]:
        if mode in "+-":
            flush()
            sign = mode
            continue
        arg = ""
        if (all_have_args or mode_has_arg(serv, sign, mode)) and argi < len(args):
            arg = formatting.colon(args[argi])
            argi += 1
        quiet = raw_modes
        if using_front or not serv.is_channel(chan):
            if not quiet:
                _genmode(emu, sess, nick, sign, mode, chan, arg, stamp)
            continue
        if mode in serv.nick_modes:
            user = sess.find_user(arg)
            if user:
                idx = serv.nick_modes.index(mode)
                pfx = serv.nick_prefixes[idx] if idx < len(serv.nick_prefixes) else ""
                if sign == "+":
                    grant(sess, user, pfx)
                else:
                    revoke(sess, user, pfx)
        elif chanmode_type(serv, mode) >= 1:
            record_mode(serv, sess, sign, mode, arg)
        if mode == "k":
            sess.channelkey = arg if sign == "+" else ""
        elif mode == "l":
            sess.limit = formatting.atoi(arg) if sign == "+" else 0
        grouped = _GROUPED_MODES.get((sign, mode))
        event = _MODE_EVENTS.get((sign, mode))
        if mode == "q" and "q" not in serv.chanmodes.split(",")[0]:
            event = None  # +q is owner on this server
        if quiet and (grouped or event):
            continue
        if grouped:
            group[grouped].append(arg)
            continue
        if event:
            shown = () if sign == "-" and mode in "kl" else (arg,)  # removals show no argument
            emu.emit(sess, event, nick, *shown, stamp=stamp)
            continue
        if not quiet:
            _genmode(emu, sess, nick, sign, mode, chan, arg, stamp)
    flush()

def _genmode(emu: "Emulator", sess: Session, nick: str, sign: str, mode: str, chan: str, arg: str,
             stamp: int) -> None:
    where = "%s %s" % (chan, arg) if arg else chan
    emu.emit(sess, "Channel Mode Generic", nick, sign, mode, where, stamp=stamp)



def mode_has_arg(serv: Server, sign: str, mode: str) -> bool:
    """``mode_has_arg``: nick modes and CHANMODES groups 0-1 always, group 2
    only when set."""
    if mode in serv.nick_modes:
        return True
    kind = chanmode_type(serv, mode)
    return kind in (0, 1) or (kind == 2 and sign == "+")


def grant(sess: Session, user, pfx: str) -> None:
    if not pfx:
        return
    held = getattr(user, "extra_prefixes", "") or ""
    if pfx not in held:
        held += pfx
    order = sess.server.nick_prefixes
    held = "".join(sorted(held, key=lambda c: order.index(c) if c in order else 99))
    user.extra_prefixes = held
    user.prefix = held[:1]
    sess.sort_users()


def revoke(sess: Session, user, pfx: str) -> None:
    held = (getattr(user, "extra_prefixes", "") or "").replace(pfx, "")
    user.extra_prefixes = held
    user.prefix = held[:1]
    sess.sort_users()


def chanmode_type(serv: Server, mode: str) -> int:
    """``modechanmode_type``: the CHANMODES group (0 = list modes like b,
    1 = always an argument like k, 2 = argument when set like l, 3 = flags),
    -1 if the server did not list it."""
    for idx, group in enumerate(serv.chanmodes.split(",")):
        if mode in group:
            return idx
    return -1


def record_mode(serv: Server, sess: Session, sign: str, mode: str, arg: str) -> None:
    """``record_chan_mode``, step by step: HexChat edits the mode string it
    got from 324 (``get_info('modes')``) in place rather than rebuilding it,
    so its quirks (no '+' if there was no 324, a lone '+' once every mode is
    gone) are what scripts see."""
    cur = sess.modes
    space = cur.find(" ")
    modes_length = space if space >= 0 else len(cur)
    mode_pos = cur.find(mode, 0, modes_length)
    arg_offset = arg_length = 0
    if mode_pos != -1 and mode_has_arg(serv, "+", mode):
        argument_num = sum(1 for c in cur[:mode_pos + 1] if mode_has_arg(serv, "+", c))
        pos, seen = modes_length, 0
        while seen < argument_num and pos < len(cur):
            if cur[pos] == " ":
                seen += 1
            if seen != argument_num:
                pos += 1
        arg_offset = pos
        if seen == argument_num:  # the argument's length, with its leading space
            arg_length = 1
            pos += 1
            while pos < len(cur) and cur[pos] != " ":
                arg_length += 1
                pos += 1
    if sign == "+":
        if mode_pos == -1:
            cur = cur[:modes_length] + mode + cur[modes_length:]
            if mode_has_arg(serv, sign, mode):
                cur += " " + arg
        elif mode_has_arg(serv, sign, mode):  # replace the argument, keep its space
            tail = cur[arg_offset + arg_length:] if arg_length else ""  # erase(-1): to the end
            cur = cur[:arg_offset + 1] + arg + tail
    elif mode_pos != -1:
        if mode_has_arg(serv, "+", mode):
            cur = cur[:arg_offset] + cur[arg_offset + arg_length:]
        cur = cur[:mode_pos] + cur[mode_pos + 1:]
    sess.modes = cur
