"""Per-script environments from PEP 723 inline metadata (issue 12).

A sandboxed script that declares packages (a ``# /// script`` block, or
``[script:NAME] dependencies`` in hexsandbox.ini) runs in a virtual
environment holding exactly those, built from the Python it would otherwise
run under and cached by (interpreter, version, requirement set). See
``docs/environments.md`` for the decisions and why.

Modules, one job each: ``metadata`` (what a script declares), ``cache`` (where
environments live, their keys and markers), ``probe`` (runs in an interpreter:
what it has), ``build`` (make one environment, atomically), ``prepare`` (from
a script to its Python), ``service`` (the same inside HexChat, off its main
thread), ``command`` (``/sandbox deps``), ``inifile`` (record a dependency),
``hints`` (a missing import's fix).

This package's import is light (``probe`` is imported by other interpreters).
"""
