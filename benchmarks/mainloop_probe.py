# A HexChat Python addon for benchmarks/hexchat_scale.py (not a benchmark):
# it watches HexChat's main loop from the start of the Python plugin's
# autoload until the scripts under test have loaded.
#
# The benchmark puts it in addons/ as the first file the Python plugin loads
# (harness/addon_order.py) and prepends one line, SETTINGS = {...}:
#   socket   unix socket the record is sent to (one JSON line)
#   wait     "start line": until the hexsandbox loader prints its start line
#            ("hexsandbox VERSION: ...", hexsandbox/loader.py start_line);
#            "load prints": until `count` scripts printed "scalebench: NAME loaded"
#   count    how many load prints to wait for (0: settled at once)
#   interval_ms, stall_ms, limit_s   the timer, what counts as a stall, give up after
#
# Why a timer: HexChat runs timers, server lines and redraws on its one main
# thread, so the gaps between a short timer's ticks are the time that thread
# was busy elsewhere. Its own load counts as the first tick, so the first gap
# holds everything the main thread did synchronously after it (the rest of
# the autoload: in-process scripts, the hexsandbox loader; other plugins;
# the main window). The record ends at the first tick after "settled".
#
# Why hexchat.prnt is wrapped: a script's prnt emits no print event HexChat
# would let a hook see, and both the load prints and the loader's start line
# are prnt calls through this (shared) module. The wrapper only notes the
# time of matching lines and forwards every call.
__module_name__ = "mainloop_probe"
__module_version__ = "1"
__module_description__ = "hexsandbox benchmark: main-loop gaps during start-up"

import json
import os
import re
import socket
import sys
import time

import hexchat

_SETTINGS = SETTINGS  # noqa: F821 - prepended by the benchmark
_START_LINE = re.compile(r"^hexsandbox [^:\s]+: ")
_LOAD_PRINT = re.compile(r"^scalebench: (\S+) loaded$")


def _autoload_order():
    """The .py files in the order the Python plugin's autoload listed them
    (the same os.listdir, so the same order), and whether this one is first."""
    plugin = globals().get("__plugin")
    mine = os.path.basename(getattr(plugin, "filename", "") or "")
    folder = os.path.join(hexchat.get_info("configdir"), "addons")
    listed = [name for name in os.listdir(folder) if name.endswith(".py")]
    return listed, bool(mine) and bool(listed) and listed[0] == mine


_t0 = time.monotonic()
_listed, _first = _autoload_order()
_state = {
    "t_load": _t0, "autoload_order": _listed, "first_in_autoload": _first,
    "loader_imported_before": "hexsandbox.loader" in sys.modules,
    "last_tick": _t0, "ticks": 0, "max_gap_s": 0.0, "stalls": [],
    "load_prints": [], "t_start_line": None, "start_line": None,
    "t_settled": _t0 if _SETTINGS["count"] == 0 else None, "done": False,
}
_original_prnt = hexchat.prnt


def _prnt(text, *args, **kwargs):
    if not _state["done"] and isinstance(text, str):
        now = time.monotonic()
        if _START_LINE.match(text) and _state["t_start_line"] is None:
            _state["t_start_line"], _state["start_line"] = now, text
            if _SETTINGS["wait"] == "start line":
                _state["t_settled"] = now
        elif _LOAD_PRINT.match(text):
            _state["load_prints"].append(now)
            if _SETTINGS["wait"] == "load prints" and len(_state["load_prints"]) == _SETTINGS["count"]:
                _state["t_settled"] = now
    return _original_prnt(text, *args, **kwargs)


def _report():
    _state["done"] = True
    if hexchat.prnt is _prnt:
        hexchat.prnt = _original_prnt
    record = {k: v for k, v in _state.items() if k not in ("last_tick", "done")}
    record["settled"] = _state["t_settled"] is not None
    record["t_end"] = _state["last_tick"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5.0)
        s.connect(_SETTINGS["socket"])
        s.sendall(json.dumps(record).encode() + b"\n")


def _tick(_userdata):
    now = time.monotonic()
    gap = now - _state["last_tick"]
    _state["last_tick"] = now
    _state["ticks"] += 1
    _state["max_gap_s"] = max(_state["max_gap_s"], gap)
    if gap * 1000 >= _SETTINGS["stall_ms"]:
        _state["stalls"].append([now - gap - _t0, gap])
    if _state["t_settled"] is not None or now - _t0 > _SETTINGS["limit_s"]:
        try:
            _report()
        except OSError as exc:
            _original_prnt("mainloop_probe: could not send its record: %s" % exc)
        return False  # the timer ends with the record
    return True


hexchat.prnt = _prnt
hexchat.hook_timer(_SETTINGS["interval_ms"], _tick)
