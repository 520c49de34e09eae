"""The wire decodes untrusted bytes as plain data only, in linear time."""

import struct
import time

import msgpack
import pytest

from hexsandbox.rpc import codec, framing
from hexsandbox.rpc import messages as M


@pytest.mark.parametrize("value", [
    None, True, 3, -2**63, 2**64 - 1, 1.5, "héllo", b"\x00bytes", [1, [2, [3]]], {"a": {"b": [None]}},
    M.request(7, "get_info", 123456789, ["nick"]),
])
def test_plain_data_round_trips(value):
    assert codec.decode(codec.encode(value)) == value


def test_tuples_travel_as_arrays():
    assert codec.decode(codec.encode((1, (2, 3)))) == [1, [2, 3]]


def test_int_keyed_maps_are_refused():
    data = msgpack.packb({1: "a"})
    with pytest.raises(codec.CodecError, match="not allowed for map key"):
        codec.decode(data)


#: Ints that all hash alike: x % (2**61 - 1) is an int's hash. (Within
#: msgpack's 64-bit ints only 8 distinct ones exist; the old pickle codec
#: took 60,000 of any size and spent 20 s inserting them into a set.)
COLLIDING = [k * (2**61 - 1) for k in range(8)]


def test_a_colliding_map_is_refused_at_its_first_key_in_linear_time():
    body = b"\xdf" + struct.pack(">I", 60000) + b"".join(
        msgpack.packb(COLLIDING[k % 8]) + b"\xc0" for k in range(60000))
    t0 = time.perf_counter()
    with pytest.raises(codec.CodecError):
        codec.decode(body)
    assert time.perf_counter() - t0 < 0.05


def test_colliding_ints_in_an_array_decode_linearly():
    # No sets exist in msgpack: the same ints in an array are just a list.
    body = msgpack.packb([COLLIDING[k % 8] for k in range(60000)])
    t0 = time.perf_counter()
    assert len(codec.decode(body)) == 60000
    assert time.perf_counter() - t0 < 0.05


def test_float_and_nil_keys_are_refused():
    for key in (1.5, None, True):
        with pytest.raises(codec.CodecError):
            codec.decode(msgpack.packb({key: 1}))


def test_extension_types_are_refused():
    with pytest.raises(codec.CodecError, match="ext"):
        codec.decode(msgpack.packb(msgpack.ExtType(5, b"x")))


def test_a_timestamp_extension_is_refused():
    with pytest.raises(codec.CodecError):
        codec.decode(b"\xd6\xff\x00\x00\x00\x00")  # fixext4 type -1: msgpack Timestamp


def test_100k_deep_nesting_is_refused_quickly():
    body = b"\x91" * 100_000 + b"\xc0"
    t0 = time.perf_counter()
    with pytest.raises(codec.CodecError, match="StackError"):
        codec.decode(body)
    assert time.perf_counter() - t0 < 0.05


def test_nesting_up_to_the_limit_is_fine():
    body = b"\x91" * (codec.MAX_DEPTH - 1) + b"\xc0"
    codec.decode(body)


@pytest.mark.parametrize("data", [
    b"", b"\xc1", b"\x92\x01", b"\xdb\xff\xff\xff\xff", b"\xc6\xff\xff\xff\xff",
    b"\xdd\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\x01\x02",  # extra data
    b"\xa2\xff\xfe",  # invalid UTF-8
])
def test_malformed_bytes_raise_codec_error(data):
    with pytest.raises(codec.CodecError):
        codec.decode(data)


def test_encode_refuses_what_is_not_plain():
    for value in (lambda: 1, {1, 2}, object(), 2**70):
        with pytest.raises(codec.CodecError):
            codec.encode(value)


# ---- framing ------------------------------------------------------------------
def test_frames_reassemble_from_any_split():
    bodies = [b"a", b"", b"x" * 1000, b"end"]
    stream = b"".join(framing.frame(b) for b in bodies)
    for step in (1, 3, 7, len(stream)):
        reader = framing.FrameReader(4096)
        got = []
        for i in range(0, len(stream), step):
            got += reader.feed(stream[i:i + step])
        assert got == bodies
        assert reader.partial_since is None


def test_an_oversized_header_is_refused_before_any_body_byte():
    reader = framing.FrameReader(1024)
    with pytest.raises(framing.FrameError, match="104857600 bytes"):
        reader.feed(struct.pack(">I", 100 * 1024 * 1024))
    assert reader.buffered <= 4


def test_a_partial_frame_is_remembered_with_its_start_time():
    reader = framing.FrameReader(1024)
    assert reader.feed(framing.frame(b"hello")[:6]) == []
    assert reader.partial_since is not None
    assert reader.feed(b"llo") == [b"hello"]
    assert reader.partial_since is None


# ---- message shapes -------------------------------------------------------------
@pytest.mark.parametrize("msg", [
    "not a list", [], ["x"], [0, 1, "prnt"], [0, "1", "prnt", [None]], [0, 1, 5, [None]],
    [2, "prnt", ["ctx"]], [2, "prnt", "args"], [2, "prnt", []], [1, 1], [1, 1, "oops", None],
    [9, 1, 2], [0, -1, "prnt", [None]], [0, 2**32, "prnt", [None]], [2, "prnt", [True]],
])
def test_bad_message_shapes_are_rejected(msg):
    with pytest.raises(M.ProtocolError):
        M.parse(msg)


def test_good_shapes_pass():
    assert M.parse([2, "prnt", [None, "hi"]]) == M.Notification("prnt", None, ["hi"])
    assert M.parse([0, 4, "get_info", [7, "nick"]]) == M.Request(4, "get_info", 7, ["nick"])
    assert M.parse([1, 4, None, 0]) == M.Response(4, None, 0)
    assert M.parse([1, 4, ["KeyError", "x"], None]).error == ["KeyError", "x"]
