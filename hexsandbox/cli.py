"""The ``hexsandbox`` command line: install, uninstall, check, demo, and the
local-API verbs (send, events, info, run-remote, emulate; see docs/remote.md)."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def _cmd_install(args: argparse.Namespace) -> int:
    from .install import InstallError, install

    try:
        result = install(args.config_dir, args.python)
    except InstallError as exc:
        print(f"hexsandbox: {exc}", file=sys.stderr)
        return 2
    print(f"Installed the loader: {result.loader}")
    print(f"Put scripts to sandbox in: {result.sandbox}")
    print(f"Workers run with: {result.python}")
    print("Restart HexChat (or type /py load hexsandbox_loader.py), then /sandbox help.")
    return 0


def _cmd_uninstall(args: argparse.Namespace) -> int:
    from .install import uninstall

    removed = uninstall(args.config_dir)
    if not removed:
        print("hexsandbox: nothing to remove (no loader installed).")
    for path in removed:
        print(f"Removed {path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    import importlib.util

    needed = ["pytest"] + (["xdist"] if str(args.workers) != "1" else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:  # check runs on pytest (and pytest-xdist for -n)
        names = ["pytest-xdist" if m == "xdist" else m for m in missing]
        print(f"hexsandbox check: needs {' and '.join(names)} in {sys.executable} "
              f"(pipx: pipx inject hexsandbox {' '.join(names)}; "
              f"a virtualenv: pip install {' '.join(names)})", file=sys.stderr)
        return 2
    from .check.frontend import run_check

    return run_check(args.paths, workers=args.workers, junitxml=args.junitxml,
                     json_path=args.json, deadline_ms=args.deadline_ms)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo_run import run_demo

    return run_demo(args.scripts)


def _workers(text: str) -> str:
    """``-n``: a positive number or ``auto``, as pytest-xdist takes it."""
    if text != "auto" and not (text.isdigit() and int(text) > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number or auto, not {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hexsandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("install", help="wire hexsandbox into HexChat")
    p.add_argument("--config-dir", help="HexChat config dir (default: ~/.config/hexchat)")
    p.add_argument("--python", help="Python the workers run with (default: this one)")
    p.set_defaults(func=_cmd_install)

    p = sub.add_parser("uninstall", help="remove what install added")
    p.add_argument("--config-dir")
    p.set_defaults(func=_cmd_uninstall)

    p = sub.add_parser("check", help="smoke-test legacy scripts against the emulator")
    p.add_argument("paths", nargs="+", help="scripts or folders of scripts")
    p.add_argument("-n", dest="workers", type=_workers, default=1,
                   help="scripts checked in parallel (a number or auto; pytest-xdist)")
    p.add_argument("--junitxml", help="write a JUnit XML report")
    p.add_argument("--json", help="write a JSON report")
    p.add_argument("--deadline-ms", type=int, default=2000, help="hook deadline per script")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("demo", help="run the example scripts sandboxed on the emulator")
    p.add_argument("--scripts", help="folder with the example scripts (default: scripts/examples)")
    p.set_defaults(func=_cmd_demo)

    from .remote.verbs import add_parsers  # send, events, info, run-remote, emulate

    add_parsers(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
