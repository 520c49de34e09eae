"""User settings for sandboxed scripts, kept beside them.

``<configdir>/sandbox/hexsandbox.ini`` (plain INI, so a user can edit it):

    [defaults]
    deadline_ms = 500        ; how long HexChat waits for a hook's answer
    memory_limit_mb = 1024   ; address-space limit per worker, 0 = none
    restart = yes            ; restart crashed scripts (with backoff)
    python = /path/to/python ; interpreter for workers
    wakeup = auto            ; auto | hook_fd | g_idle_add | timer (diagnostics)
    spin_us = auto           ; poll pipes this long before sleeping (0 = never)

    [script:slow_lookup.py]
    deadline_ms = 2000       ; per-script deadline
    autoload = no            ; skip at HexChat start
    dependencies = requests>=2, lxml  ; added to its # /// script block (environments)

Pluginprefs are *not* kept here: they stay in HexChat's own store.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

SANDBOX_DIRNAME = "sandbox"
#: Ways to wake HexChat's main thread, best first (hexchat_backend tries them in order).
WAKEUPS = ("hook_fd", "g_idle_add", "timer")
CONFIG_FILENAME = "hexsandbox.ini"


@dataclass
class ScriptSettings:
    deadline_ms: int
    autoload: bool


@dataclass
class Settings:
    """Parsed hexsandbox.ini with defaults for what it does not say."""

    deadline_ms: int = 500
    memory_limit_mb: int = 1024
    restart: bool = True
    python: Optional[str] = None
    #: How the client wakes HexChat's main thread: "auto" takes the best that
    #: works (hook_fd, then g_idle_add, then a timer). Naming a worse one is
    #: for diagnosing a HexChat build, and lets the tests prove each works.
    wakeup: str = "auto"
    #: Microseconds to poll a pipe before sleeping on it; None = hexsandbox's
    #: choice (see spinwait: on with 4+ CPUs).
    spin_us: Optional[int] = None
    parser: Optional[configparser.ConfigParser] = None
    #: One plain line per value that could not be used (its default was).
    problems: List[str] = field(default_factory=list)

    def for_script(self, filename: str) -> ScriptSettings:
        section = f"script:{os.path.basename(filename)}"
        if self.parser is not None and self.parser.has_section(section):
            read = _Reader(self.parser[section], self.problems)
            return ScriptSettings(read.number("deadline_ms", self.deadline_ms, minimum=1),
                                  read.yes_no("autoload", True))
        return ScriptSettings(self.deadline_ms, True)

    def script_option(self, filename: str, key: str) -> Optional[str]:
        """The raw text of ``key`` in ``[script:NAME]``, or None: for values
        another module parses itself (``dependencies``, see environments)."""
        section = f"script:{os.path.basename(filename)}"
        if self.parser is None or not self.parser.has_section(section):
            return None
        return self.parser[section].get(key)


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

    def number(self, key: str, default: Optional[int], minimum: int = 0,
               auto: bool = False) -> Optional[int]:
        value = self.section.get(key)
        if value is None or (auto and value.strip().lower() in ("", "auto")):
            return default
        try:
            number = int(value)
            if number >= minimum:
                return number
        except ValueError:
            pass
        self._bad(key, value, f"a whole number of at least {minimum}" + (" or auto" if auto else ""))
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


def load_settings(config_dir: str) -> Settings:
    path = os.path.join(sandbox_dir(config_dir), CONFIG_FILENAME)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        return Settings(problems=[f"{CONFIG_FILENAME} could not be read ({first}); "
                                  f"using the defaults."])
    settings = Settings(parser=parser)
    if not parser.has_section("defaults"):
        return settings
    read = _Reader(parser["defaults"], settings.problems)
    settings.deadline_ms = read.number("deadline_ms", 500, minimum=1)
    settings.memory_limit_mb = read.number("memory_limit_mb", 1024)
    settings.restart = read.yes_no("restart", True)
    settings.python = parser["defaults"].get("python") or None
    settings.wakeup = read.choice("wakeup", "auto", ("auto",) + WAKEUPS)
    settings.spin_us = read.number("spin_us", None, auto=True)
    return settings
