"""The handshake every external application starts with (docs/remote.md).

1. The application connects to the endpoint's Unix socket. A process of
   another uid (SO_PEERCRED) is disconnected at once.
2. It sends one request: ``[0, msgid, "hello", [nil, NAME, TOKEN-or-nil]]``
   and nothing else until that request is answered.
3. The answer is one of

   * ``[1, msgid, nil, {"name": NAME, "context": CTX, "token": TOKEN-or-nil}]``:
     allowed; ``token`` is a new token to keep (only when the user has just
     allowed it; nil means "keep the one you sent"); ``CTX`` is the front
     tab, the application's current context from now on;
   * ``[1, msgid, [TYPE, MESSAGE], nil]``, then the connection closes: denied,
     wrong or stale token, bad hello, or no answer from the user in time.

   An unknown application (or an allowed name without its token) first gets
   a ``[2, "waiting", [nil, TEXT]]`` notification: HexChat asked the user,
   and the hello stays unanswered until the user types ``/sandbox allow
   NAME`` or ``/sandbox deny NAME``. Meanwhile its requests are answered with
   an error and its notifications dropped: it gets nothing.
4. From then on the connection speaks docs/protocol.md exactly as a worker
   does (``ack`` flow control, ``hook`` requests to answer with an eat value
   within the deadline, ``timer``, ``unload``...).
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

HELLO = "hello"
WAITING = "waiting"

#: Largest frame accepted before the application is allowed.
PREAUTH_MAX_FRAME = 16 * 1024
#: Seconds a new connection has to send its hello.
HELLO_DEADLINE_S = 5.0
#: Seconds an unknown application waits for the user's answer.
ASK_DEADLINE_S = 600.0
#: Messages an application may send while it waits for the user.
PREAUTH_MAX_MESSAGES = 64

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class BadHello(ValueError):
    """A hello that does not follow the rules above."""


def valid_name(name: Any) -> bool:
    return type(name) is str and bool(_NAME.match(name))


def parse_hello(args: List[Any]) -> Tuple[str, Optional[str]]:
    """(name, token) from the hello's parameters after the context handle."""
    if len(args) != 2:
        raise BadHello("hello takes [nil, name, token]")
    name, token = args
    if not valid_name(name):
        raise BadHello("an application name is 1 to 64 letters, digits, '.', '_' or '-', "
                       "starting with a letter or digit")
    if token is not None and (type(token) is not str or not 0 < len(token) <= 256):
        raise BadHello("the token must be a string or nil")
    return name, token
