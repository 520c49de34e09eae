"""Plain-data codec for messages between the client and its workers.

The client runs inside HexChat and must never build arbitrary objects from
bytes a worker (or, later, a remote peer) sent: a hostile or broken script
would otherwise own HexChat. We keep the speed of the C pickler but decode
with an unpickler that refuses every global and every persistent id, so the
only objects it can make are pickle's built-in plain types (None, bool, int,
float, str, bytes, bytearray, tuple, list, dict, set, frozenset). Nothing it
decodes is callable, so no code runs.

Worker-bound traffic (client -> worker) is trusted and uses the same format;
:mod:`cloudpickle` is used only where a trusted host ships a function into a
worker (tests).

A Perl worker or an external program can speak the same message shapes with
another codec; :mod:`hexsandbox.protocol` describes them as plain data.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

#: Largest message a worker may send (a bigger one drops the worker): far
#: above any real call (HexChat lines are at most a few KB) yet small enough
#: that a runaway script cannot make HexChat allocate gigabytes.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class CodecError(ValueError):
    """Bytes that are not a plain-data message."""


class _PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild pickle's built-in plain types."""

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401
        raise pickle.UnpicklingError(f"refused to load global {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused a persistent id")


def encode(message: Any) -> bytes:
    """Serialise plain data. Raises CodecError for anything else."""
    try:
        data = pickle.dumps(message, protocol=_PROTOCOL)
    except Exception as exc:  # unpicklable object in a message
        raise CodecError(f"cannot encode {type(message).__name__}: {exc}") from exc
    return data


def decode(data: bytes) -> Any:
    """Rebuild a message from untrusted bytes, or raise CodecError."""
    try:
        return _PlainDataUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any failure of a hostile stream
        raise CodecError(f"malformed message: {exc}") from exc


def decode_trusted(data: bytes) -> Any:
    """Decode client -> worker traffic (the host is trusted)."""
    return pickle.loads(data)
