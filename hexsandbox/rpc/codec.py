"""The message codec: msgpack, decoded as plain data only.

Why msgpack (measured in ``benchmarks/codec.py``, figures in
docs/protocol.md): it is as fast as the stdlib's json here or faster, it has bytes and a
real int/float/bool distinction (json has neither), and Debian ships it for
Python (``python3-msgpack``) and Perl (``libdata-messagepack-perl``), the next
peers this project must host.

Decoding bytes from a worker or any other peer must never cost more than
linear time or build anything but plain data (team rule 6):

* ``strict_map_key=True``: map keys are str (or bytes) only, whose hashes are
  randomised per process -- a map of crafted colliding int keys (quadratic
  insertion, 20 s with the GIL held in the old pickle codec) is refused at
  its first key; msgpack has no sets at all;
* ``ext_hook`` raises: no extension types, so nothing but None, bool, int,
  float, str, bytes, list and dict is ever built;
* every length (str, bin, array, map) is bounded by the frame, which the
  framing layer bounds before the body is read;
* nesting: msgpack's C unpacker keeps a fixed stack of 1024 levels and raises
  ``StackError`` beyond it (checked in tests/core/test_codec.py with 100,000
  levels), so no recursion and no deep structure past 1024.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, NoReturn

import msgpack

#: The most a nested structure may go deep (msgpack's own C stack size; the
#: decoder raises beyond it; see the module docstring).
MAX_DEPTH = 1024


class CodecError(ValueError):
    """Bytes that are not plain msgpack data, or a value that cannot be sent."""


def _no_ext(code: int, data: bytes) -> NoReturn:
    raise CodecError(f"extension type {code} refused")


#: Bodies from this size up are decoded with the cyclic GC paused (below
#: it a body makes too few objects for the collector to matter, and the
#: pause is three calls on every hook round trip).
GC_PAUSE_FROM = 16 * 1024

#: One reusable Packer per thread (``msgpack.packb`` builds a new one, with
#: its buffer, for every message; a Packer resets itself after each pack,
#: also after a failed one).
_packers = threading.local()


def encode(message: Any) -> bytes:
    """msgpack bytes of plain data. Raises CodecError for anything else."""
    try:
        packer = _packers.packer
    except AttributeError:
        packer = _packers.packer = msgpack.Packer(use_bin_type=True, strict_types=False)
    try:
        return packer.pack(message)
    except (TypeError, ValueError, OverflowError) as exc:
        raise CodecError(f"cannot send {type(exc).__name__}: {exc}") from exc


def decode(body: bytes) -> Any:
    """Plain data from one frame body of an untrusted peer, or CodecError.

    From ``GC_PAUSE_FROM`` bytes up the cyclic garbage collector is paused
    while it runs: a body of a million empty arrays makes a million tracked
    objects, and the collector passes over them again and again as they are
    made (1 MiB of them took 1.2 s with it, 0.17 s without; benchmarks/codec.py).
    """
    size = len(body)
    if size < GC_PAUSE_FROM or not gc.isenabled():
        return _unpack(body, size)
    gc.disable()
    try:
        return _unpack(body, size)
    finally:
        gc.enable()


def _unpack(body: bytes, size: int) -> Any:
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True, ext_hook=_no_ext,
                               use_list=True, max_str_len=size, max_bin_len=size,
                               max_array_len=size, max_map_len=size, max_ext_len=0)
    except CodecError:
        raise
    except Exception as exc:  # any failure of hostile bytes
        raise CodecError(f"undecodable message ({type(exc).__name__}: {exc})") from exc
