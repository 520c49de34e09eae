"""User settings for sandboxed scripts, kept beside them.

``<configdir>/sandbox/hexsandbox.ini`` (plain INI, so a user can edit it):

    [defaults]
    deadline_ms = 500        ; how long HexChat waits for a hook's answer (10..60000)
    memory_limit_mb = 1024   ; address-space limit per worker: 0 = none, else 64..1048576
    restart = yes            ; restart crashed scripts (with backoff)
    python = /path/to/python ; interpreter for workers (must have hexsandbox installed)
    wakeup = auto            ; auto | hook_fd | g_idle_add | timer (diagnostics)
    spin_us = auto           ; poll pipes this long before sleeping (0..10000, 0 = never)

    [script:slow_lookup.py]  ; or [script:slow_lookup]
    deadline_ms = 2000       ; per-script deadline
    python = /path/to/python ; per-script interpreter
    autoload = no            ; skip at HexChat start
    dependencies = requests>=2, lxml  ; added to its # /// script block (environments)

    [sandbox]
    start = zygote           ; zygote | spawn: how Python workers start (docs/architecture.md, "Zygote")

Which interpreter a worker runs: the script's ``python``, else ``[defaults]``'s,
else the one ``hexsandbox install`` wrote into the loader (the Python it was
installed with), else HexChat's own.

Why the bounds (a value outside them is one line and its default):

* ``deadline_ms`` 10..60000: a sandboxed round trip takes 20-100 us, but on a
  busy machine a worker can wait milliseconds to be scheduled, so below 10 ms
  hooks would be "late" through no fault of the script; above a minute HexChat
  would look frozen, which is what the deadline exists to prevent.
* ``memory_limit_mb`` 0 or 64..1048576: measured on Debian 12, a worker (Python,
  hexsandbox, one script thread) does not start under 48 MB of address space
  (32 MB fails at import, 16 MB crashes); 64 MB leaves room for a thread's
  8 MB stack. 1 TiB keeps the byte count far from any overflow.
* ``spin_us`` 0..10000: a sleeping process wakes in 30-65 us here, so spinning
  longer than 10 ms only burns a CPU (and, spun on HexChat's main thread,
  stalls it).

The file is read without interpolation (a ``%`` is just a character) and as
UTF-8 with undecodable lines dropped: a typo or a stray byte costs one line
and a default, never hexsandbox's start.

Pluginprefs are *not* kept here: they stay in HexChat's own store.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, TypeVar, Union

SANDBOX_DIRNAME = "sandbox"
#: Ways to wake HexChat's main thread, best first (hexchat_backend tries them in order).
WAKEUPS = ("hook_fd", "g_idle_add", "timer")
CONFIG_FILENAME = "hexsandbox.ini"

DEADLINE_MS = (10, 60000)
MEMORY_LIMIT_MB = (64, 1048576)   # or 0: no limit
SPIN_US = (0, 10000)

#: How HexChat runs a script's hooks (``[script:NAME] hooks =``).
HOOK_MODES = ("sync", "async")
#: How Python workers start (``[sandbox] start =``; used by hexsandbox.spawning).
START_MODES = ("zygote", "spawn")

_Default = TypeVar("_Default", int, Optional[int])


@dataclass
class ScriptSettings:
    deadline_ms: int
    autoload: bool
    #: The script's own ``python``, else ``[defaults]``'s; None: the loader's.
    python: Optional[str] = None
    #: "sync" (HexChat waits for each hook's eat value, at most the deadline)
    #: or "async" (HexChat never waits; events go one-way and cannot be eaten).
    hooks: str = "sync"


@dataclass
class Settings:
    """Parsed hexsandbox.ini with defaults for what it does not say."""

    deadline_ms: int = 500
    memory_limit_mb: int = 1024
    restart: bool = True
    #: ``[defaults] python``; None: the interpreter the loader names.
    python: Optional[str] = None
    #: How the client wakes HexChat's main thread: "auto" takes the best that
    #: works (hook_fd, then g_idle_add, then a timer). Naming a worse one is
    #: for diagnosing a HexChat build, and lets the tests prove each works.
    wakeup: str = "auto"
    #: Microseconds to poll a pipe before sleeping on it; None = hexsandbox's
    #: choice (see spinwait: on with 4+ CPUs).
    spin_us: Optional[int] = None
    #: ``[sandbox] start``: "zygote" (fork workers from a preloaded
    #: interpreter) or "spawn" (a fresh interpreter each); None: not said,
    #: so the zygote (or ``$HEXSANDBOX_START``).
    start: Optional[str] = None
    parser: Optional[configparser.ConfigParser] = None
    #: One plain line per value that could not be used (its default was).
    problems: List[str] = field(default_factory=list)

    def _script_section(self, filename: str) -> Optional[configparser.SectionProxy]:
        """A script's section, ``[script:NAME.py]`` or ``[script:NAME]``."""
        base = os.path.basename(filename)
        for name in (base, os.path.splitext(base)[0]):
            section = f"script:{name}"
            if self.parser is not None and self.parser.has_section(section):
                return self.parser[section]
        return None

    def for_script(self, filename: str) -> ScriptSettings:
        section = self._script_section(filename)
        if section is not None:
            read = _Reader(section, self.problems)
            return ScriptSettings(read.number("deadline_ms", self.deadline_ms, DEADLINE_MS),
                                  read.yes_no("autoload", True),
                                  read.python("python", self.python),
                                  read.choice("hooks", "sync", HOOK_MODES))
        return ScriptSettings(self.deadline_ms, True, self.python)

    def script_option(self, filename: str, key: str) -> Optional[str]:
        """The raw text of ``key`` in the script's section, or None: for values
        another module parses itself (``dependencies``, see environments)."""
        section = self._script_section(filename)
        return section.get(key) if section is not None else None


def sandbox_dir(config_dir: str) -> str:
    """Where sandboxed scripts live: not ``addons/``, which the in-process
    Python plugin autoloads."""
    return os.path.join(config_dir, SANDBOX_DIRNAME)


class _Reader:
    """Reads one section; a bad value is reported and its default used, so a
    typo in the file never keeps hexsandbox (or any script) from starting."""

    def __init__(self, section: configparser.SectionProxy, problems: List[str]) -> None:
        self.section, self.problems = section, problems

    def _bad(self, key: str, value: str, wanted: str) -> None:
        line = (f"{CONFIG_FILENAME} [{self.section.name}]: {key} = {value!r} is not {wanted}; "
                f"using the default.")
        if line not in self.problems:  # a script's section is read at each load
            self.problems.append(line)

    def number(self, key: str, default: _Default, bounds: Tuple[int, int],
               auto: bool = False, zero: bool = False) -> Union[int, _Default]:
        """A whole number within ``bounds`` (or 0 with ``zero``, "auto" with ``auto``)."""
        value = self.section.get(key)
        if value is None or (auto and value.strip().lower() in ("", "auto")):
            return default
        low, high = bounds
        try:
            number = int(value)
            if low <= number <= high or (zero and number == 0):
                return number
        except ValueError:
            pass
        wanted = f"a whole number from {low} to {high}"
        if zero:
            wanted = f"0 (no limit) or {wanted}"
        self._bad(key, value, wanted + (" or auto" if auto else ""))
        return default

    def yes_no(self, key: str, default: bool) -> bool:
        try:
            return self.section.getboolean(key, default)
        except ValueError:
            self._bad(key, self.section.get(key, ""), "yes or no")
            return default

    def choice(self, key: str, default: str, choices: Tuple[str, ...]) -> str:
        value = (self.section.get(key) or default).strip().lower()
        if value in choices:
            return value
        self._bad(key, value, "one of " + ", ".join(choices))
        return default

    def python(self, key: str, default: Optional[str]) -> Optional[str]:
        """An interpreter: an absolute path (``~`` allowed) to an executable file."""
        value = self.section.get(key)
        if value is None or not value.strip():
            return default
        path = os.path.expanduser(value.strip())
        if os.path.isabs(path) and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        self._bad(key, value, "the full path of an installed Python")
        return default


def _read_text(path: str, problems: List[str]) -> str:
    """The file as text; lines that are not UTF-8 are dropped, with one line
    saying which (their keys keep their defaults)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        problems.append(f"{CONFIG_FILENAME} could not be read ({exc.strerror}); using the defaults.")
        return ""
    kept, dropped = [], []
    for number, line in enumerate(raw.splitlines(), 1):
        try:
            kept.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            dropped.append(str(number))
    if dropped:
        problems.append(f"{CONFIG_FILENAME}: line {', '.join(dropped)} is not UTF-8 text; "
                        f"ignored (defaults used there).")
    return "\n".join(kept)


def load_settings(config_dir: str) -> Settings:
    """Read hexsandbox.ini; never raises for anything in the file."""
    path = os.path.join(sandbox_dir(config_dir), CONFIG_FILENAME)
    problems: List[str] = []
    text = _read_text(path, problems)
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        first = str(exc).splitlines()[0]
        return Settings(problems=problems + [f"{CONFIG_FILENAME} could not be read ({first}); "
                                             f"using the defaults."])
    settings = Settings(parser=parser, problems=problems)
    if parser.has_section("sandbox") and parser["sandbox"].get("start") is not None:
        settings.start = _Reader(parser["sandbox"], settings.problems).choice(
            "start", "zygote", START_MODES)
    if not parser.has_section("defaults"):
        return settings
    read = _Reader(parser["defaults"], settings.problems)
    settings.deadline_ms = read.number("deadline_ms", 500, DEADLINE_MS)
    settings.memory_limit_mb = read.number("memory_limit_mb", 1024, MEMORY_LIMIT_MB, zero=True)
    settings.restart = read.yes_no("restart", True)
    settings.python = read.python("python", None)
    settings.wakeup = read.choice("wakeup", "auto", ("auto",) + WAKEUPS)
    settings.spin_us = read.number("spin_us", None, SPIN_US, auto=True)
    return settings
