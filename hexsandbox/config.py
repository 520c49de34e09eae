"""User settings for sandboxed scripts, kept beside them.

``<configdir>/sandbox/hexsandbox.ini`` (plain INI, so a user can edit it):

    [defaults]
    deadline_ms = 500        ; how long HexChat waits for a hook's answer
    memory_limit_mb = 1024   ; address-space limit per worker, 0 = none
    restart = yes            ; restart crashed scripts (with backoff)
    python = /path/to/python ; interpreter for workers
    wakeup = auto            ; auto | hook_fd | g_idle_add | timer (diagnostics)

    [script:slow_lookup.py]
    deadline_ms = 2000       ; per-script deadline
    autoload = no            ; skip at HexChat start

Pluginprefs are *not* kept here: they stay in HexChat's own store.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from typing import Optional

SANDBOX_DIRNAME = "sandbox"
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
    parser: Optional[configparser.ConfigParser] = None

    def for_script(self, filename: str) -> ScriptSettings:
        section = f"script:{os.path.basename(filename)}"
        if self.parser is not None and self.parser.has_section(section):
            sect = self.parser[section]
            return ScriptSettings(sect.getint("deadline_ms", self.deadline_ms),
                                  sect.getboolean("autoload", True))
        return ScriptSettings(self.deadline_ms, True)


def sandbox_dir(config_dir: str) -> str:
    """Where sandboxed scripts live: not ``addons/``, which the in-process
    Python plugin autoloads."""
    return os.path.join(config_dir, SANDBOX_DIRNAME)


def load_settings(config_dir: str) -> Settings:
    path = os.path.join(sandbox_dir(config_dir), CONFIG_FILENAME)
    parser = configparser.ConfigParser(inline_comment_prefixes=(";", "#"))
    parser.read(path)
    if not parser.has_section("defaults"):
        return Settings(parser=parser)
    d = parser["defaults"]
    return Settings(deadline_ms=d.getint("deadline_ms", 500),
                    memory_limit_mb=d.getint("memory_limit_mb", 1024),
                    restart=d.getboolean("restart", True),
                    python=d.get("python") or None,
                    wakeup=d.get("wakeup", "auto").strip().lower() or "auto",
                    parser=parser)
