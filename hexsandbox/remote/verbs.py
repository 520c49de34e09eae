"""Command-line verbs over the local API (``hexsandbox send|events|info|run-remote|emulate``).

Every verb but ``emulate`` is an application named ``hexsandbox-cli``
(``--name`` to choose another), so the user allows the command line once.
``--socket PATH`` picks the endpoint; the default is the one HexChat opens
(:func:`hexsandbox.remote.paths.default_socket`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, List

if TYPE_CHECKING:  # the client (and msgpack) load only when a verb runs
    from .client import RemoteApp

CLI_NAME = "hexsandbox-cli"


def _app(args: argparse.Namespace) -> "RemoteApp":
    from .client import connect

    return connect(args.name, socket_path=args.socket)


def _fail(exc: Exception) -> int:
    text = str(exc)
    print(text if text.startswith("hexsandbox: ") else f"hexsandbox: {text}", file=sys.stderr)
    return 2


def cmd_send(args: argparse.Namespace) -> int:
    from .client import RemoteError

    try:
        with _app(args) as hc:
            target: Any = hc
            if args.channel:
                target = hc.find_context(channel=args.channel)
                if target is None:
                    return _fail(RemoteError(f"no tab for {args.channel}"))
            for text in args.commands:
                target.command(text[1:] if text.startswith("/") else text)
    except RemoteError as exc:
        return _fail(exc)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .client import RemoteError

    try:
        with _app(args) as hc:
            value = hc.get_info(args.field)
    except RemoteError as exc:
        return _fail(exc)
    if value is None:
        return 1
    print(value)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    """One line per event until interrupted (or HexChat unloads the app).

    Ctrl-C is never raised as KeyboardInterrupt here: raised wherever the
    main thread happens to be (inside a callback's call, holding the
    session's locks) it could leave the app unable to leave, and it hung
    1 run in 2-3. SIGINT is blocked in every thread of this process before
    any starts, and one thread waits for it (``sigwait``) and leaves
    quietly; HexChat then closes the connection and ``run`` returns."""
    from .client import RemoteError

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        hc = _app(args)
    except RemoteError as exc:
        return _fail(exc)

    def leave_on_interrupt() -> None:
        signal.sigwait({signal.SIGINT})
        hc.close()

    threading.Thread(target=leave_on_interrupt, name="hexsandbox-sigint", daemon=True).start()

    def show(kind: str, name: str) -> Any:
        def callback(word: List[str], word_eol: List[str], userdata: Any) -> int:
            record = {"event": name, "kind": kind, "words": list(word),
                      "channel": hc.get_info("channel"), "network": hc.get_info("network")}
            if args.json:
                line = json.dumps(record, ensure_ascii=False)
            else:
                line = f"{record['network']} {record['channel']} {name}: " + " ".join(word)
            print(line, flush=True)
            return hc.EAT_NONE
        return callback

    for name in args.events:
        hc.hook_print(name, show("print", name))
    for name in args.server:
        hc.hook_server(name, show("server", name))
    if args.ready:
        # Hooks are registered one-way; HexChat answers a call only after it
        # has served what came before it, so after this round trip they are
        # in place. (Printing at once raced: an event sent on "ready" could
        # reach HexChat before the hook did, and was never shown.)
        hc.get_info("version")
        print(json.dumps({"ready": True}) if args.json else "ready", flush=True)
    hc.run()
    return 0


def cmd_run_remote(args: argparse.Namespace) -> int:
    from .client import RemoteError, run_script

    try:
        return run_script(args.script, name=args.name, socket_path=args.socket)
    except RemoteError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        return 0


def cmd_emulate(args: argparse.Namespace) -> int:
    from .emulate import serve

    return serve(args.listen, only=args.only, channel=args.channel, nick=args.nick,
                 deadline_ms=args.deadline_ms, log_hooks=args.log_hooks)


def add_parsers(sub: Any) -> None:
    """Add the verbs to ``hexsandbox``'s sub-command parser."""
    def client(name: str, help_text: str, default_name: str = CLI_NAME) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--socket", help="the endpoint (default: the one HexChat opens)")
        p.add_argument("--name", default=default_name, help=f"application name (default {default_name})")
        return p

    p = client("send", "run commands in HexChat, as if typed")
    p.add_argument("commands", nargs="+", help="e.g. '/msg #chan hi'")
    p.add_argument("--channel", help="run them in this channel's tab (default: the front tab)")
    p.set_defaults(func=cmd_send)

    p = client("events", "print text events (one line, or one JSON object, each)")
    p.add_argument("events", nargs="*", help="text events, e.g. 'Channel Message'")
    p.add_argument("--server", action="append", default=[], help="also a server message (e.g. PRIVMSG)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--ready", action="store_true", help="print a line once the hooks are in place")
    p.set_defaults(func=cmd_events)

    p = client("info", "print one get_info field (e.g. channel, nick, network)")
    p.add_argument("field")
    p.set_defaults(func=cmd_info)

    p = client("run-remote", "run an unchanged HexChat script as an external application", "")
    p.add_argument("script")
    p.set_defaults(func=cmd_run_remote, name=None)

    p = sub.add_parser("emulate", help="a headless HexChat (the emulator) serving the local API")
    p.add_argument("--listen", required=True, metavar="PATH", help="the socket to serve")
    p.add_argument("--only", action="append", default=None, metavar="NAME",
                   help="allow only these applications (default: every one of this user)")
    p.add_argument("--channel", default="#test")
    p.add_argument("--nick", default="tester")
    p.add_argument("--deadline-ms", type=int, default=2000)
    p.add_argument("--log-hooks", action="store_true", help="print a line when a hook is registered")
    p.set_defaults(func=cmd_emulate)
