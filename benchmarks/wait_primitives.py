"""How a process waits for its peer's answer: ``recv`` against ``poll`` and ``epoll``.

The decision this measures (hexsandbox/rpc/session.py, "Waiting"): the owner
of a session waits for the answer in a blocking ``recv`` bounded by
``SO_RCVTIMEO``, not in ``poll`` followed by a non-blocking read. Every
measure is a ping-pong over a Unix stream socket pair with a forked echo
process whose end waits the same way as ours, taken in turn (benchtools.interleaved):

* ``recv``: both ends sleep in a blocking ``recv``;
* ``poll`` / ``epoll``: both ends sleep in ``poll`` / ``epoll`` on a
  non-blocking socket, then read;
* the same three with a hook-sized msgpack message (the hook request of
  hook_roundtrip.py) that the echo end decodes, answers with a msgpack
  response and the asking end decodes: the least Python a hook round trip
  can run;
* ``raw pipe floor``: hook_roundtrip.py's floor, its echo process pinned
  like the others;
* with ``--pin``, also the sandboxed hook of hook_roundtrip.py, its worker
  pinned like the echo processes.

``--pin cross`` puts this process on CPU 0 and every peer on CPU 1, so each
wake-up crosses vCPUs (the VM's slow mode, which otherwise comes and goes
by itself); ``--pin same`` puts them all on CPU 0.

Usage: python benchmarks/wait_primitives.py [--n 6000] [--rounds 3] [--pin cross|same] [--json FILE]
Prints a table and writes JSON (default benchmarks/results/wait_primitives.json).
"""

from __future__ import annotations

import os
import select
import socket
import struct
import sys
from typing import Any, Callable, Dict, List, Optional, Tuple

import msgpack

from hexsandbox.benchtools import (bench_arguments, interleaved, pipe_floor_samples, print_table,
                                   time_each, write_results)

HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = struct.Struct(">I")
WORD = ["alice", "hello world"]
WORD_EOL = ["alice hello world", "hello world"]


def _waiter(sock: socket.socket, how: str) -> Callable[[], bytes]:
    """A function that waits for the next bytes on ``sock`` the ``how`` way."""
    fd = sock.fileno()
    if how == "recv":
        sock.setblocking(True)
        return lambda: sock.recv(65536)
    sock.setblocking(False)
    if how == "poll":
        poller = select.poll()
        poller.register(fd, select.POLLIN)
    else:
        poller = select.epoll()  # type: ignore[assignment]
        poller.register(fd, select.EPOLLIN)

    def wait() -> bytes:
        poller.poll()
        return sock.recv(65536)
    return wait


def _echo(sock: socket.socket, how: str, hook: bool) -> None:
    """The forked peer: answer every message (a msgpack response to a hook
    request, or the same bytes)."""
    receive = _waiter(sock, how)
    while True:
        data = receive()
        if not data or data == b"stop":
            os._exit(0)
        if hook:
            request = msgpack.unpackb(data[HEADER.size:], raw=False)
            body = msgpack.packb([1, request[1], None, 0])
            data = HEADER.pack(len(body)) + body
        sock.send(data)


def ping_pong(how: str, hook: bool, peer_cpu: Optional[int]) -> Callable[[int], List[int]]:
    """A measure: the forked echo process starts now and serves every round."""
    ours, theirs = socket.socketpair()
    if os.fork() == 0:
        ours.close()
        if peer_cpu is not None:
            os.sched_setaffinity(0, {peer_cpu})
        _echo(theirs, how, hook)
    theirs.close()
    receive = _waiter(ours, how)
    ids = iter(range(1, 1 << 62))

    def bare() -> None:
        ours.send(b"x" * 60)
        receive()

    def hook_call() -> None:
        msgid = next(ids)
        body = msgpack.packb([0, msgid, "hook", [None, 1, WORD, WORD_EOL, 0]])
        ours.send(HEADER.pack(len(body)) + body)
        answer = msgpack.unpackb(receive()[HEADER.size:], raw=False)
        assert answer[1] == msgid

    call = hook_call if hook else bare
    return lambda k: time_each(call, k)


SCRIPT = '''
__module_name__ = "bench"
import hexchat
def quiet(word, word_eol, userdata):
    return hexchat.EAT_NONE
hexchat.hook_print("Channel Message", quiet)
'''


def sandboxed(peer_cpu: int) -> Tuple[Any, Callable[[int], List[int]]]:
    """hook_roundtrip.py's sandboxed hook, every thread of its worker on
    ``peer_cpu``; the client to close, and the measure."""
    from hexsandbox.benchtools import sandboxed_hook_call
    from hexsandbox.testing import EmulatedClient

    client = EmulatedClient(deadline_ms=5000, spin_us=0)
    client.load(SCRIPT)
    pid = client.sandbox.find("bench").worker.pid
    for tid in os.listdir(f"/proc/{pid}/task"):
        os.sched_setaffinity(int(tid), {peer_cpu})
    call = sandboxed_hook_call(client.sandbox, "bench", "print 'Channel Message'")
    return client, lambda k: time_each(call, k)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = bench_arguments(argv, __doc__, os.path.join(HERE, "results", "wait_primitives.json"),
                           lambda parser: parser.add_argument("--pin", choices=("cross", "same")))
    peer_cpu = {None: None, "cross": 1, "same": 0}[args.pin]
    if peer_cpu is not None:
        if len(os.sched_getaffinity(0)) < 2:
            print("--pin needs two CPUs", file=sys.stderr)
            return 2
        os.sched_setaffinity(0, {0})
    measures: Dict[str, Callable[[int], List[int]]] = {
        "raw pipe floor": lambda k: pipe_floor_samples(k, cpu=peer_cpu)}
    for hook in (False, True):
        for how in ("recv", "poll", "epoll"):
            measures[f"{'hook-sized msgpack' if hook else '60 bytes'}, ends wait in {how}"] = \
                ping_pong(how, hook, peer_cpu)
    client = None
    if peer_cpu is not None:
        client, measures["sandboxed hook"] = sandboxed(peer_cpu)
    try:
        results = interleaved(measures, args.n, args.rounds)
    finally:
        if client is not None:
            client.close()
    print_table(results)
    write_results(args.json, results, argv, "benchmarks/wait_primitives.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
