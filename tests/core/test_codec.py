"""The client decodes worker bytes without ever building arbitrary objects."""

import io
import os
import pickle
import pickletools

import pytest

from hexsandbox import codec
from hexsandbox import protocol as P


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/hexsandbox-pwned",))


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 1.5, "héllo", b"\x00bytes", [1, [2, (3,)]], {"a": {"b": [None]}},
    (P.REQUEST, 7, "get_info", 123456789, ["nick"]),
])
def test_plain_data_round_trips(value):
    assert codec.decode(codec.encode(value)) == value


def test_refuses_globals_and_reduce():
    data = pickle.dumps(Evil())
    with pytest.raises(codec.CodecError, match="refused to load global"):
        codec.decode(data)
    assert not os.path.exists("/tmp/hexsandbox-pwned")


@pytest.mark.parametrize("protocol", range(0, pickle.HIGHEST_PROTOCOL + 1))
def test_refuses_classes_in_every_protocol(protocol):
    data = pickle.dumps(codec.CodecError("x"), protocol=protocol)
    with pytest.raises(codec.CodecError):
        codec.decode(data)


def test_refuses_persistent_ids():
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return "pid" if obj == "secret" else None

    P(buf).dump(["secret"])
    with pytest.raises(codec.CodecError, match="persistent"):
        codec.decode(buf.getvalue())


def test_refuses_copyreg_extension_codes():
    # EXT1 opcode looks a class up through copyreg; it must hit find_class.
    import copyreg

    copyreg.add_extension("os", "system", 0xF0)
    try:
        data = b"\x80\x02\x82\xf0)R."  # PROTO 2, EXT1 0xf0, EMPTY_TUPLE, REDUCE, STOP
        with pytest.raises(codec.CodecError):
            codec.decode(data)
    finally:
        copyreg.remove_extension("os", "system", 0xF0)


@pytest.mark.parametrize("data", [
    b"", b"garbage", b"\x80\x05\x95", pickle.dumps("x" * 100)[:-10],
    b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.",  # BINBYTES8 claiming 2**63 bytes
    os.urandom(256),
])
def test_malformed_bytes_raise_codec_error(data):
    with pytest.raises(codec.CodecError):
        codec.decode(data)


def test_deep_nesting_does_not_crash():
    data = b"\x80\x04" + b"]" * 100000 + b"."  # 100k EMPTY_LISTs on the stack, no recursion
    try:
        codec.decode(data)
    except codec.CodecError:
        pass


@pytest.mark.parametrize("msg", [
    "not a tuple", (), ("x",), (P.REQUEST, 1, "prnt", None), (P.REQUEST, "1", "prnt", None, []),
    (P.REQUEST, 1, 5, None, []), (P.NOTE, 0, "prnt", "ctx", []), (P.NOTE, 0, "prnt", None, "args"),
    (P.REPLY, 1), (99, 1, 2), (P.CALL, 1, 2, 3, []),
])
def test_bad_message_shapes_are_rejected(msg):
    with pytest.raises(P.ProtocolError):
        P.check_worker_message(msg)


def test_good_shapes_pass():
    assert P.check_worker_message((P.NOTE, 0, "prnt", None, ["hi"]))
    assert P.check_worker_message((P.REPLY, 4, 0))


def test_encode_rejects_unpicklable():
    with pytest.raises(codec.CodecError):
        codec.encode(lambda: 1)


def test_pickletools_sanity():
    # The stream we send for a typical call has no GLOBAL opcodes at all.
    ops = {op.name for op, _, _ in pickletools.genops(codec.encode((P.NOTE, 0, "prnt", 7, ["x"])))}
    assert not ops & {"GLOBAL", "STACK_GLOBAL", "REDUCE", "INST", "OBJ", "NEWOBJ"}
