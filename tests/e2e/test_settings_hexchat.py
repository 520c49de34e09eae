"""hexsandbox.ini and the start line in real HexChat 2.16 (issue 8.6, issue 9.4).

The rows of issue 8's table these guard:

| `deadline_ms = 100%` | a traceback ending InterpolationSyntaxError; no scripts, no /sandbox |
| `python = /some/python` | ignored: the loader's interpreter won |
"""

import os
import time

from hexsandbox import __version__

WHICH = '''
__module_name__ = "{name}"
import hexchat, os, sys
def which(word, word_eol, userdata):
    hexchat.prnt("{name} runs %s in pid %d" % (sys.executable, os.getpid()))
    return hexchat.EAT_ALL
hexchat.hook_command("WHICH{name}", which)
'''


def _lines(hc):
    return [line.lstrip("\t") for lines in hc.transcript().values() for line in lines]


def _wait_line(hc, predicate, what, timeout=20.0):
    """Each check is a request HexChat answers from its main loop (a round
    trip, not a sleep); bounded."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = [line for line in _lines(hc) if predicate(line)]
        if found:
            return found
    raise AssertionError(f"timed out waiting for {what}; lines: {_lines(hc)[-20:]}")


def _said(hc, command, prefix):
    """Lines starting with ``prefix`` that ``command`` printed in #test."""
    before = len(hc.transcript("#test"))
    hc.command(command, "#test")
    lines = [line.lstrip("\t") for line in hc.transcript("#test")[before:]]
    return [line for line in lines if line.startswith(prefix)]


def test_percent_in_the_ini_is_one_line_and_everything_still_starts(sandboxed_hexchat_factory):
    hc = sandboxed_hexchat_factory(sandbox={"a.py": WHICH.format(name="a")},
                                   ini="[defaults]\ndeadline_ms = 100%\n")
    hc.wait_running("a")
    told = [line for line in _lines(hc) if "hexsandbox.ini" in line]
    assert told == ["hexsandbox: hexsandbox.ini [defaults]: deadline_ms = '100%' is not a whole number "
                    "from 10 to 60000; using the default."]
    assert not [line for line in _lines(hc) if "Traceback" in line or "Error" in line]
    status = _said(hc, "sandbox status", "hexsandbox: a script that takes more than")
    assert status and "500 ms" in status[0], "/sandbox works, with the default deadline"


def test_python_in_the_ini_wins_over_the_loaders(sandboxed_hexchat_factory, sandbox_env):
    """The loader names sandbox_env.python (.../bin/python3); the ini names
    the same venv's python3.11 globally and its python for one script, so
    each worker's sys.executable says which one started it."""
    venv_bin = os.path.dirname(sandbox_env.python)
    global_py, script_py = os.path.join(venv_bin, "python3.11"), os.path.join(venv_bin, "python")
    assert os.path.basename(sandbox_env.python) == "python3"
    ini = f"[defaults]\npython = {global_py}\n[script:own.py]\npython = {script_py}\n"
    hc = sandboxed_hexchat_factory(sandbox={"own.py": WHICH.format(name="own"),
                                            "other.py": WHICH.format(name="other")}, ini=ini)
    state = {s["name"]: s for s in hc.wait_running("own", "other")}
    assert _said(hc, "WHICHother", "other runs") == [f"other runs {global_py} in pid {state['other']['pid']}"]
    assert _said(hc, "WHICHown", "own runs") == [f"own runs {script_py} in pid {state['own']['pid']}"]
    named = _said(hc, "sandbox status -v", "hexsandbox: ")
    assert f"hexsandbox: workers run {global_py}." in named
    assert f"hexsandbox: own runs {script_py}." in named


def test_start_line_after_autoload_names_loaded_and_failed(sandboxed_hexchat_factory):
    hc = sandboxed_hexchat_factory(sandbox={"greeter.py": WHICH.format(name="greeter"),
                                            "logger.py": WHICH.format(name="logger"),
                                            "weather.py": "import nosuchmodule_xyz\n"})
    expected = (f"hexsandbox {__version__}: 2 scripts sandboxed (greeter, logger); "
                f"1 failed to load (weather.py), see /sandbox list; /sandbox help")
    told = _wait_line(hc, lambda line: line.startswith(f"hexsandbox {__version__}:"), "the start line")
    # Said once, and only when all three had settled: it names both the
    # running ones and the one whose load failed.
    assert told == [expected]


SPINNER = '''
__module_name__ = "hang"
import hexchat, time
def hang(word, word_eol, userdata):
    time.sleep(30)
    return hexchat.EAT_ALL
hexchat.hook_command("HANGNOW", hang)
'''

PROBE = '''
__module_name__ = "probe"
import hexchat, time
state = {"last": None, "max_gap": 0.0}
def tick(userdata):
    now = time.monotonic()
    if state["last"] is not None:
        state["max_gap"] = max(state["max_gap"], now - state["last"])
    state["last"] = now
    return True
hexchat.hook_timer(10, tick)
'''


def test_a_huge_spin_is_one_line_and_never_outlasts_the_deadline(sandboxed_hexchat_factory):
    """Issue 8's row `spin_us = 3000000`: a hung hook stalled HexChat 3.0 s
    while the late line said 500 ms. Now the value is named in one line, and
    the stall stays within the deadline (+50 ms)."""
    hc = sandboxed_hexchat_factory(sandbox={"hang.py": SPINNER}, scripts={"probe.py": PROBE},
                                   ini="[defaults]\nspin_us = 3000000\ndeadline_ms = 500\n"
                                       "restart = no\n")
    hc.wait_running("hang")
    told = [line for line in _lines(hc) if "hexsandbox.ini" in line]
    assert len(told) == 1 and "spin_us = '3000000'" in told[0], told
    hc.eval("script('probe')['state'].update(max_gap=0.0, last=None)")
    hc.command("HANGNOW", "#test")
    _wait_line(hc, lambda line: "did not answer" in line and "500 ms" in line, "the late line")
    probe = hc.eval("script('probe')['state']")
    assert probe["max_gap"] <= 0.550, probe
