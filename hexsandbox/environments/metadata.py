"""What a script declares it needs: PEP 723 inline metadata and hexsandbox.ini.

A script may carry a ``# /// script`` block (PEP 723, the convention ``uv run``
and ``pipx run`` honour)::

    # /// script
    # requires-python = ">=3.9"
    # dependencies = ["requests>=2"]
    # ///

and a user who does not want to edit the file can give the same list in
``hexsandbox.ini`` (``[script:NAME] dependencies = requests>=2, lxml``). The
two are merged (the ini adds to the block): that is what ``/sandbox deps NAME
add PKG`` relies on, so it never edits the user's script.

Blocks are found with the PEP's reference regular expression and read with
``tomllib``, so a file ``uv run`` accepts is read the same way here.

Requirement strings are normalised (PEP 503 names, no blanks in version
specifiers) only to build the cache key: ``Requests >= 2`` and ``requests>=2``
share one environment. Whether a specifier is valid is left to the installer,
whose own error is shown to the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

#: PEP 723's reference expression for a metadata block.
BLOCK_RE = re.compile(
    r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")


class MetadataError(ValueError):
    """The script's metadata cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Needs:
    """What one script needs, from its block and the ini together."""

    declared: Tuple[str, ...] = ()        # from the script's # /// script block
    configured: Tuple[str, ...] = ()      # from [script:NAME] dependencies
    requires_python: Optional[str] = None

    @property
    def requirements(self) -> Tuple[str, ...]:
        """Every requirement, normalised, sorted, without duplicates."""
        return tuple(sorted({normalise(r) for r in self.declared + self.configured}))


def _toml_loads(text: str) -> Dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:  # pragma: no cover - HexChat's Debian Python is 3.11
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise MetadataError("reading a '# /// script' block needs Python 3.11+ "
                                "(or the tomli package)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(f"its '# /// script' block is not valid TOML: {exc}") from None


def read_block(source: str, kind: str = "script") -> Optional[Dict[str, Any]]:
    """The parsed ``# /// kind`` block of ``source``, or None when it has none.

    As the PEP says: more than one block of a kind is an error; each content
    line drops its leading ``# `` (or a lone ``#``).
    """
    matches = [m for m in BLOCK_RE.finditer(source) if m.group("type") == kind]
    if not matches:
        return None
    if len(matches) > 1:
        raise MetadataError(f"it has {len(matches)} '# /// {kind}' blocks; PEP 723 allows one")
    lines = matches[0].group("content").splitlines(keepends=True)
    return _toml_loads("".join(line[2:] if line.startswith("# ") else line[1:] for line in lines))


_CLAUSE = r"\s*(?:~=|===|==|!=|<=|>=|<|>)\s*[A-Za-z0-9][A-Za-z0-9.*+!_-]*\s*"
#: After the name: [extras], then version clauses (bare or in parentheses) or
#: "@ url", then "; marker". Checked here because some pip releases quietly
#: take a malformed clause such as ">>1" as a legacy specifier.
_REST_RE = re.compile(
    r"^(?:\[\s*[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*\s*\])?\s*"
    rf"(?:(?:{_CLAUSE}(?:,{_CLAUSE})*)|\(\s*{_CLAUSE}(?:,{_CLAUSE})*\)|@\s*\S+\s*)?"
    r"(?:;.*)?$", re.S)


def check_requirement(text: str) -> str:
    """``text`` stripped, if it is shaped like a PEP 508 requirement.

    Anything else is refused here with one line: an option such as
    ``--index-url=...`` or a path must never reach an installer's command
    line, and a malformed version clause is the user's typo to fix."""
    text = text.strip()
    match = _NAME_RE.match(text)
    if not match or text.startswith("-"):
        raise MetadataError(f"{text!r} is not a package requirement (e.g. requests>=2)")
    if not _REST_RE.match(match.group(2)):
        raise MetadataError(f"{text!r} has a bad version specifier (e.g. requests>=2,<3)")
    return text


def _string_list(value: Any, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MetadataError(f"{where} must be a list of strings")
    return tuple(check_requirement(v) for v in value if v.strip())


def parse_ini_list(value: Optional[str]) -> Tuple[str, ...]:
    """``requests>=2, lxml`` or one per line (commas inside ``[extras]`` kept)."""
    if not value:
        return ()
    items: List[str] = []
    for line in value.splitlines():
        items.extend(part.strip() for part in re.split(r",(?![^\[]*\])", line))
    return tuple(item for item in items if item)


def needs_of(source: str, ini_dependencies: Optional[str] = None) -> Needs:
    """What a script with this source (and ini value) needs."""
    block = read_block(source)
    declared: Tuple[str, ...] = ()
    requires_python = None
    if block is not None:
        declared = _string_list(block.get("dependencies", []), "'dependencies' in its '# /// script' block")
        requires_python = block.get("requires-python")
        if requires_python is not None and not isinstance(requires_python, str):
            raise MetadataError("'requires-python' in its '# /// script' block must be a string")
    configured = tuple(check_requirement(r) for r in parse_ini_list(ini_dependencies))
    return Needs(declared, configured, requires_python)


def read_needs(path: str, ini_dependencies: Optional[str] = None) -> Needs:
    """:func:`needs_of` for a file (as UTF-8, like the worker reads it)."""
    try:
        with open(path, "rb") as f:
            source = f.read().decode("utf-8", "replace")
    except OSError as exc:
        raise MetadataError(f"cannot read it: {exc.strerror}") from None
    return needs_of(source, ini_dependencies)


_NAME_RE = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(.*)$", re.S)


def canonical_name(name: str) -> str:
    """PEP 503: ``Foo_Bar.baz`` -> ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def normalise(requirement: str) -> str:
    """One spelling per requirement, for the cache key (see the module doc)."""
    match = _NAME_RE.match(requirement)
    if match is None:
        return requirement.strip()  # not a name: the installer will say so
    name, rest = match.groups()
    spec, sep, marker = rest.partition(";")
    spec = re.sub(r"\s+", "", spec).lower()
    marker = " ".join(marker.split())
    return canonical_name(name) + spec + (f"; {marker}" if sep else "")


def requirement_name(requirement: str) -> str:
    """The distribution name a requirement is about (canonical)."""
    match = _NAME_RE.match(requirement)
    return canonical_name(match.group(1)) if match else requirement.strip()


# ------------------------------------------------------------ requires-python
def _release(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def python_satisfies(version: Sequence[int], specifier: str) -> bool:
    """Whether a Python version meets ``requires-python`` (PEP 440 release
    clauses: ``>= <= > < == != ~=``, ``==3.11.*``). The ``packaging`` library
    is not one of hexsandbox's dependencies, and HexChat's Python lacks it;
    these clauses are all a ``requires-python`` uses in practice."""
    have = tuple(version)
    for clause in specifier.split(","):
        clause = clause.strip()
        if not clause:
            continue
        match = re.fullmatch(r"(~=|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*)(\.\*)?", clause)
        if match is None:
            raise MetadataError(f"requires-python {specifier!r} is not a version specifier")
        op, number, star = match.groups()
        want = _release(number)
        if star:  # ==3.11.* / !=3.11.*: a prefix match
            if op not in ("==", "!="):
                raise MetadataError(f"requires-python {specifier!r}: '.*' goes with == or != only")
            ok = (have[:len(want)] == want) == (op == "==")
        else:
            width = max(len(want), len(have))
            a, b = have + (0,) * (width - len(have)), want + (0,) * (width - len(want))
            ok = {"==": a == b, "!=": a != b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b,
                  "~=": a >= b and have[:len(want) - 1] == want[:-1]}[op]
        if not ok:
            return False
    return True
