"""hexsandbox.ini: values are read, and a bad one is one plain line and its
default, never a failed start."""

import os
import sys

import pytest

from hexsandbox.config import load_settings


def _write(config_dir, text):
    os.makedirs(os.path.join(config_dir, "sandbox"), exist_ok=True)
    with open(os.path.join(config_dir, "sandbox", "hexsandbox.ini"), "w") as f:
        f.write(text)


def test_defaults_without_a_file(tmp_path):
    s = load_settings(str(tmp_path))
    assert (s.deadline_ms, s.memory_limit_mb, s.restart, s.wakeup, s.spin_us) == (500, 1024, True, "auto", None)
    assert s.problems == []


def test_values_are_read(tmp_path):
    _write(tmp_path, "[defaults]\ndeadline_ms = 750 ; comment\nmemory_limit_mb = 0\nrestart = no\n"
                     "wakeup = timer\nspin_us = 150\npython = /usr/bin/python3\n"
                     "[script:slow.py]\ndeadline_ms = 3000\nautoload = no\n")
    s = load_settings(str(tmp_path))
    assert (s.deadline_ms, s.memory_limit_mb, s.restart, s.wakeup, s.spin_us, s.python) == \
        (750, 0, False, "timer", 150, "/usr/bin/python3")
    slow = s.for_script("/x/slow.py")
    assert (slow.deadline_ms, slow.autoload) == (3000, False)
    assert s.for_script("other.py").deadline_ms == 750
    assert s.problems == []


def test_bad_values_are_reported_once_and_defaults_kept(tmp_path):
    _write(tmp_path, "[defaults]\ndeadline_ms = fast\nrestart = maybe\nwakeup = telepathy\n"
                     "spin_us = -5\nmemory_limit_mb = 12\n[script:a.py]\ndeadline_ms = 0\n")
    s = load_settings(str(tmp_path))
    assert (s.deadline_ms, s.restart, s.wakeup, s.spin_us, s.memory_limit_mb) == (500, True, "auto", None, 1024)
    assert s.problems == [
        "hexsandbox.ini [defaults]: deadline_ms = 'fast' is not a whole number from 10 to 60000; "
        "using the default.",
        "hexsandbox.ini [defaults]: memory_limit_mb = '12' is not 0 (no limit) or a whole number from 64 "
        "to 1048576; using the default.",
        "hexsandbox.ini [defaults]: restart = 'maybe' is not yes or no; using the default.",
        "hexsandbox.ini [defaults]: wakeup = 'telepathy' is not one of auto, hook_fd, g_idle_add, timer; "
        "using the default.",
        "hexsandbox.ini [defaults]: spin_us = '-5' is not a whole number from 0 to 10000 or auto; "
        "using the default.",
    ]
    assert s.for_script("a.py").deadline_ms == 500
    assert s.for_script("a.py").deadline_ms == 500
    assert s.problems[-1] == ("hexsandbox.ini [script:a.py]: deadline_ms = '0' is not a whole number "
                              "from 10 to 60000; using the default.")
    assert len(s.problems) == 6, "reported once, however often the script is loaded"


def test_unreadable_file_means_defaults_and_one_line(tmp_path):
    _write(tmp_path, "deadline_ms = 3\n[defaults\n")
    s = load_settings(str(tmp_path))
    assert s.deadline_ms == 500
    assert len(s.problems) == 1 and s.problems[0].startswith("hexsandbox.ini could not be read (")


@pytest.mark.parametrize("key, value, default", [
    ("deadline_ms", "9", 500), ("deadline_ms", "60001", 500),
    ("memory_limit_mb", "63", 1024), ("memory_limit_mb", "1048577", 1024),
    ("spin_us", "10001", None),
])
def test_values_outside_their_bounds(tmp_path, key, value, default):
    _write(tmp_path, f"[defaults]\n{key} = {value}\n")
    s = load_settings(str(tmp_path))
    assert getattr(s, key) == default
    assert len(s.problems) == 1 and f"{key} = '{value}' is not" in s.problems[0]


@pytest.mark.parametrize("key, value", [
    ("deadline_ms", "10"), ("deadline_ms", "60000"), ("memory_limit_mb", "0"),
    ("memory_limit_mb", "64"), ("spin_us", "0"), ("spin_us", "10000"),
])
def test_values_at_their_bounds(tmp_path, key, value):
    _write(tmp_path, f"[defaults]\n{key} = {value}\n")
    s = load_settings(str(tmp_path))
    assert getattr(s, key) == int(value) and s.problems == []


def test_percent_is_a_plain_character_not_interpolation(tmp_path):
    """issue 8: `deadline_ms = 100%` was an InterpolationSyntaxError traceback."""
    _write(tmp_path, "[defaults]\ndeadline_ms = 100%\nrestart = no\n[script:a.py]\ndeadline_ms = %(x)s\n")
    s = load_settings(str(tmp_path))
    assert (s.deadline_ms, s.restart) == (500, False)
    assert s.problems == ["hexsandbox.ini [defaults]: deadline_ms = '100%' is not a whole number "
                          "from 10 to 60000; using the default."]
    assert s.for_script("a.py").deadline_ms == 500
    assert s.problems[-1] == ("hexsandbox.ini [script:a.py]: deadline_ms = '%(x)s' is not a whole number "
                              "from 10 to 60000; using the default.")


def test_a_line_that_is_not_utf8_is_dropped_with_one_line(tmp_path):
    os.makedirs(tmp_path / "sandbox")
    (tmp_path / "sandbox" / "hexsandbox.ini").write_bytes(
        b"[defaults]\ndeadline_ms = 7\xff00\nrestart = no\n")
    s = load_settings(str(tmp_path))
    assert (s.deadline_ms, s.restart) == (500, False), "the rest of the file still counts"
    assert s.problems == ["hexsandbox.ini: line 2 is not UTF-8 text; ignored (defaults used there)."]


def test_python_globally_and_per_script(tmp_path):
    exe = sys.executable
    other = os.path.join(os.path.dirname(exe), "python3")
    _write(tmp_path, f"[defaults]\npython = {exe}\n[script:own.py]\npython = {other}\n"
                     "[script:short]\npython = ~/../no/python\n[script:rel.py]\npython = python3\n")
    s = load_settings(str(tmp_path))
    assert s.python == exe
    assert s.for_script("own.py").python == other
    assert s.for_script("/x/other.py").python == exe
    assert s.for_script("short.py").python == exe, "[script:NAME] without .py works too"
    assert s.for_script("rel.py").python == exe
    assert s.problems == [
        "hexsandbox.ini [script:short]: python = '~/../no/python' is not the full path of an installed "
        "Python; using the default.",
        "hexsandbox.ini [script:rel.py]: python = 'python3' is not the full path of an installed "
        "Python; using the default.",
    ]
