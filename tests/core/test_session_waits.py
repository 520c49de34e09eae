"""How long the owner of a session waits (hexsandbox/rpc/session.py,
"Waiting"): never much past its deadline, whatever interrupts it."""

from __future__ import annotations

import os
import signal
import socket
import time

from hexsandbox.rpc.session import Session

DEADLINE_S = 0.3
#: What a deadline may be overrun by (the same bound as the transport's
#: hostile-worker tests: deadline + 50 ms).
SLACK_S = 0.05


def test_a_signal_during_the_wait_does_not_restart_the_deadline():
    """A caught signal interrupts a ``recv`` that has ``SO_RCVTIMEO``, and
    Python's retry starts the kernel's timeout afresh: with the whole
    deadline as the timeout, a 300 ms wait with a SIGCHLD at 150 ms took
    450-513 ms. HexChat 2.16 catches no SIGCHLD itself (checked in
    /proc/PID/status), but any in-process script may install a handler on
    its main thread, and a spawned worker's death sends HexChat one."""
    ours, theirs = socket.socketpair()
    session = Session(ours, peer="silent", max_frame=1 << 16)
    previous = signal.signal(signal.SIGCHLD, lambda *_: None)
    child = os.fork()
    if child == 0:  # dies halfway through the wait: SIGCHLD for us
        time.sleep(DEADLINE_S / 2)
        os._exit(0)
    try:
        started = time.monotonic()
        msgid, reply = session.call("hook", None, [], DEADLINE_S)
        took = time.monotonic() - started
    finally:
        os.waitpid(child, 0)
        signal.signal(signal.SIGCHLD, previous)
        session.close()
        theirs.close()
        ours.close()
    assert reply is None
    assert DEADLINE_S <= took <= DEADLINE_S + SLACK_S, f"waited {1000 * took:.0f} ms"
