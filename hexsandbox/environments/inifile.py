"""Recording a dependency in hexsandbox.ini without disturbing the rest of it.

``configparser.write`` would drop the user's comments and layout, so the one
line that changes is edited in the text: ``dependencies = ...`` inside
``[script:NAME]`` is replaced (or added, with the section if need be), every
other line is kept as it was. The file is replaced atomically.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import List, Sequence

from ..config import CONFIG_FILENAME, load_settings, sandbox_dir
from .metadata import normalise, parse_ini_list

KEY = "dependencies"


def ini_path(config_dir: str) -> str:
    return os.path.join(sandbox_dir(config_dir), CONFIG_FILENAME)


def add_dependencies(config_dir: str, script_file: str, requirements: Sequence[str]) -> List[str]:
    """Add ``requirements`` to ``[script:<script_file>] dependencies``;
    returns the resulting list (duplicates by normalised spelling dropped)."""
    path = ini_path(config_dir)
    current = list(parse_ini_list(load_settings(config_dir).script_option(script_file, KEY)))
    known = {normalise(r) for r in current}
    for requirement in requirements:
        if normalise(requirement) not in known:
            current.append(requirement)
            known.add(normalise(requirement))
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
    except FileNotFoundError:
        lines = []
    new_line = f"{KEY} = {', '.join(current)}\n"
    base = os.path.basename(script_file)
    start = None
    for name in (base, os.path.splitext(base)[0]):  # config's own order of lookup
        header = re.compile(r"^\s*\[script:" + re.escape(name) + r"\]\s*$")
        start = next((i for i, line in enumerate(lines) if header.match(line)), None)
        if start is not None:
            break
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += (["\n"] if lines else []) + [f"[script:{os.path.basename(script_file)}]\n", new_line]
    else:
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"^\s*\[", lines[i])),
                   len(lines))
        found = next((i for i in range(start + 1, end)
                      if re.match(rf"^\s*{KEY}\s*[=:]", lines[i])), None)
        if found is None:
            lines.insert(start + 1, new_line)
        else:
            stop = found + 1  # configparser continuation lines are indented
            while stop < end and lines[stop].strip() and lines[stop][:1] in " \t":
                stop += 1
            lines[found:stop] = [new_line]
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hexsandbox-ini-", dir=os.path.dirname(path))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(lines)
    os.replace(tmp, path)
    return current
