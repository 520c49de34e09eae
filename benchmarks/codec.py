"""Codec micro-benchmark: msgpack vs json (stdlib) on typical messages.

Encode + decode, in one process, of the messages that dominate traffic:

* a hook call (``Channel Message`` with word / word_eol), client -> worker;
* a ``prnt`` notification, worker -> client;
* a ``get_list('users')`` answer of 200 rows, client -> worker;

plus the worst cases the frame limit must bound: decoding a frame of the
smallest possible elements (the client decodes untrusted bytes on HexChat's
main thread or with the GIL held).

Usage: python benchmarks/codec.py [--n 20000] [--json FILE]
Prints a table and writes JSON (default benchmarks/results/codec.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

import msgpack

from hexsandbox.benchtools import write_results
from hexsandbox.rpc import codec
from hexsandbox.rpc import messages as M

HERE = os.path.dirname(os.path.abspath(__file__))

WORD = ["alice", "hello there, how is everyone doing today?", "@", ""]
WORD_EOL = [" ".join(WORD[i:]) for i in range(4)]
HOOK = M.request(4711, M.HOOK, 94558712345600, [140234567890123, WORD, WORD_EOL, 0])
PRNT = M.notification("prnt", 94558712345600, ["seen hello there, how is everyone doing today?"])
ROW = {"account": "", "away": 0, "host": "alice@example.org", "lasttalk": 1700000000,
       "nick": "alice", "prefix": "@", "realname": "Alice Example", "selected": 0}
USERS = M.response(4712, None, [dict(ROW, nick=f"user{i}") for i in range(200)])

CASES = {"hook call (word, word_eol)": HOOK, "prnt notification": PRNT,
         "get_list reply, 200 rows": USERS}


def _json_encode(msg: Any) -> bytes:
    return json.dumps(msg, separators=(",", ":")).encode()


def _json_decode(data: bytes) -> Any:
    return json.loads(data)


CODECS: Dict[str, Dict[str, Callable[..., Any]]] = {
    "msgpack (hexsandbox.rpc.codec)": {"encode": codec.encode, "decode": codec.decode},
    "json (stdlib)": {"encode": _json_encode, "decode": _json_decode},
}


def per_call_us(fn: Callable[[], Any], n: int) -> float:
    """Median of 5 batches, microseconds per call."""
    batches = []
    per_batch = max(1, n // 5)
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            fn()
        batches.append((time.perf_counter() - t0) / per_batch * 1e6)
    return statistics.median(batches)


def worst_cases() -> Dict[str, float]:
    """Milliseconds to decode bodies of tiny elements (msgpack) as large as
    the client accepts from a worker."""
    from hexsandbox.sandbox.core import MAX_FRAME_FROM_WORKER

    size = MAX_FRAME_FROM_WORKER
    bodies = {
        "array of nil": b"\xdd" + (size - 5).to_bytes(4, "big") + b"\xc0" * (size - 5),
        "array of 1-char strings": b"\xdd" + ((size - 5) // 2).to_bytes(4, "big") + b"\xa1a" * ((size - 5) // 2),
        "array of empty arrays": b"\xdd" + (size - 5).to_bytes(4, "big") + b"\x90" * (size - 5),
        "map of 1-char keys": b"\xdf" + ((size - 5) // 3).to_bytes(4, "big")
        + b"".join(b"\xa1" + bytes([97 + i % 26]) + b"\xc0" for i in range((size - 5) // 3)),
    }
    out = {}
    for name, body in bodies.items():
        t0 = time.perf_counter()
        try:
            codec.decode(body)
        except codec.CodecError:
            pass
        out[name] = (time.perf_counter() - t0) * 1000
    return out


def main(argv: List[str] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--json", default=os.path.join(HERE, "results", "codec.json"))
    args = parser.parse_args(argv)
    results: Dict[str, Any] = {"msgpack_version": ".".join(map(str, msgpack.version))}
    print(f"{'message':30} {'codec':32} {'bytes':>6} {'encode us':>10} {'decode us':>10} {'both us':>8}")
    for case, msg in CASES.items():
        for name, c in CODECS.items():
            data = c["encode"](msg)
            n = args.n if case != "get_list reply, 200 rows" else args.n // 20
            enc = per_call_us(lambda: c["encode"](msg), n)
            dec = per_call_us(lambda: c["decode"](data), n)
            results[f"{case} / {name}"] = {"bytes": len(data), "encode_us": round(enc, 2),
                                           "decode_us": round(dec, 2)}
            print(f"{case:30} {name:32} {len(data):6d} {enc:10.2f} {dec:10.2f} {enc + dec:8.2f}")
    print()
    from hexsandbox.sandbox.core import MAX_FRAME_FROM_WORKER

    size_kib = MAX_FRAME_FROM_WORKER // 1024
    for name, ms in worst_cases().items():
        results[f"worst case: {name}"] = {"decode_ms": round(ms, 1)}
        print(f"worst case decode, {size_kib} KiB {name:28} {ms:7.1f} ms")
    write_results(args.json, results, argv, "benchmarks/codec.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
