import base64
import io
import json

import numpy as np
import pytest

from course import protocol


def roundtrip(value):
    return protocol.parse_body(protocol.frame(value)[4:])


def test_plain_data_and_arrays_survive_the_wire():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # non-contiguous on purpose
    got = roundtrip({"a": [1, 2.5, None, True, "x"], "arr": array, "n": np.int64(7), "f": np.float64(0.5)})
    assert got["a"] == [1, 2.5, None, True, "x"]
    np.testing.assert_array_equal(got["arr"], array)
    assert got["arr"].dtype == np.float32 and not got["arr"].flags.writeable
    assert got["n"] == 7 and type(got["n"]) is int and got["f"] == 0.5


@pytest.mark.parametrize("value", [object(), {1: "int key"}, np.array([object()]), {1, 2}, b"bytes"])
def test_anything_but_plain_data_is_refused(value):
    with pytest.raises(protocol.UnsupportedValue):
        protocol.encode({"v": value})


def test_pickled_payloads_are_not_loaded():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    payload = '{"v": {"__ndarray__": "%s", "dtype": "|O", "shape": [1]}}' % base64.b64encode(buffer.getvalue()).decode()
    with pytest.raises(protocol.ProtocolError, match="malformed array"):
        protocol.parse_body(payload.encode())


@pytest.mark.parametrize("dtype, shape, data", [
    ("<f8", [3], b"\0" * 16),            # too few bytes for the shape
    ("<f8", [-1], b"\0" * 8),            # negative dimension
    ("<f8", ["2"], b"\0" * 16),          # not an int
    ("V8", [1], b"\0" * 8),              # raw void records
    ("(2,)<f8", [1], b"\0" * 16),        # sub-array dtype
    ("not a dtype", [1], b"\0" * 8),
    ("<f8", [2**62, 2**62], b""),        # an overflowing element count
])
def test_malformed_arrays_are_a_protocol_error(dtype, shape, data):
    fields = {"__ndarray__": base64.b64encode(data).decode(), "dtype": dtype, "shape": shape}
    with pytest.raises(protocol.ProtocolError, match="malformed array"):
        protocol.parse_body(json.dumps({"v": fields}).encode())


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 100000 + b"]" * 100000])
def test_garbage_is_a_protocol_error(body):
    with pytest.raises(protocol.ProtocolError):
        protocol.parse_body(body)


def test_oversized_frames_are_refused_before_reading_them():
    with pytest.raises(protocol.ProtocolError, match="exceeds"):
        protocol.parse_header((protocol.MAX_FRAME + 1).to_bytes(4, "big"))


def test_scalars_keep_their_shape():
    got = roundtrip({"zero_d": np.array(2.5), "one": np.array([2.5]), "empty": np.zeros((0, 3), np.int32),
                     "text": np.array(["ab", "c"]), "big_endian": np.arange(3, dtype=">i4")})
    assert got["zero_d"].shape == () and got["one"].shape == (1,)
    assert got["empty"].shape == (0, 3) and got["empty"].dtype == np.int32
    assert got["text"].tolist() == ["ab", "c"] and got["big_endian"].tolist() == [0, 1, 2]
