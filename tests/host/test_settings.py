"""hexsandbox.ini: values are read, and a bad one is one plain line and its
default, never a failed start."""

import os

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
    assert (s.deadline_ms, s.restart, s.wakeup, s.spin_us, s.memory_limit_mb) == (500, True, "auto", None, 12)
    assert s.problems == [
        "hexsandbox.ini [defaults]: deadline_ms = 'fast' is not a whole number of at least 1; using the default.",
        "hexsandbox.ini [defaults]: restart = 'maybe' is not yes or no; using the default.",
        "hexsandbox.ini [defaults]: wakeup = 'telepathy' is not one of auto, hook_fd, g_idle_add, timer; "
        "using the default.",
        "hexsandbox.ini [defaults]: spin_us = '-5' is not a whole number of at least 0 or auto; "
        "using the default.",
    ]
    assert s.for_script("a.py").deadline_ms == 500
    assert s.for_script("a.py").deadline_ms == 500
    assert s.problems[-1] == ("hexsandbox.ini [script:a.py]: deadline_ms = '0' is not a whole number of "
                              "at least 1; using the default.")
    assert len(s.problems) == 5, "reported once, however often the script is loaded"


def test_unreadable_file_means_defaults_and_one_line(tmp_path):
    _write(tmp_path, "deadline_ms = 3\n[defaults\n")
    s = load_settings(str(tmp_path))
    assert s.deadline_ms == 500
    assert len(s.problems) == 1 and s.problems[0].startswith("hexsandbox.ini could not be read (")
