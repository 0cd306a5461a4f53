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


# -- the judge's check of every reply field (a malformed reply fails its test, never the judge) -----
@pytest.mark.parametrize("reply", [
    {"ok": "yes", "value": 1}, {"ok": 1, "value": 1}, {"value": 1}, {"ok": True}, {"ok": True, "value": 1, "x": 2},
    {"ok": False}, {"ok": False, "error": "boom"}, {"ok": False, "error": {"type": 7}},
    {"ok": False, "error": {"message": "x" * 4001}}, {"ok": False, "error": {"secret": "x"}},
    {"ok": False, "error": {"origin": "judge"}}, {"ok": False, "error": {"type": "E"}, "value": 1},
    {"exit": "x"}, {"ok": True, "error": {}},
])
def test_malformed_replies_are_a_protocol_error(reply):
    with pytest.raises(protocol.ProtocolError):
        protocol.check_reply(protocol.parse_body(json.dumps(reply).encode()))


def test_well_formed_replies_pass_the_check():
    assert protocol.check_reply({"ok": True, "value": None}) == {"ok": True, "value": None}
    error = {"type": "ValueError", "message": "m", "where": "cell 1, line 2", "trace": "t", "origin": "check"}
    assert protocol.check_reply({"ok": False, "error": error})["error"] == error


def test_what_the_sandbox_sends_about_an_error_passes_the_judges_check():
    from course.sandbox.child import describe_error

    Long = type("E" * 500, (Exception,), {"__str__": lambda self: "m" * 10_000})
    try:
        raise Long()
    except Long as exc:
        error = describe_error(exc)
    assert protocol.check_reply(protocol.parse_body(protocol.frame({"ok": False, "error": error})[4:]))


# -- properties (hypothesis) -----------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

_PLAIN_DTYPES = st.one_of(hnp.boolean_dtypes(), hnp.integer_dtypes(endianness="="), hnp.unsigned_integer_dtypes(),
                          hnp.floating_dtypes(), hnp.complex_number_dtypes(), hnp.unicode_string_dtypes(max_len=4),
                          hnp.byte_string_dtypes(max_len=4))
_ARRAYS = _PLAIN_DTYPES.flatmap(lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64), st.floats(allow_nan=False),
                     st.text(max_size=20))
_VALUES = st.recursive(st.one_of(_SCALARS, _ARRAYS),
                       lambda inner: st.one_of(st.lists(inner, max_size=4),
                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                       max_leaves=12)


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_every_plain_value_survives_the_wire(value):
    got = roundtrip({"v": value})["v"]
    assert _same(value, got), (value, got)


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_reply_or_a_protocol_error(body):
    try:
        protocol.check_reply(protocol.parse_body(body))
    except protocol.ProtocolError:
        pass


_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
                     lambda inner: st.one_of(st.lists(inner, max_size=3),
                                             st.dictionaries(st.sampled_from(["ok", "value", "error", "type", "message",
                                                                              "where", "trace", "origin", "__ndarray__",
                                                                              "dtype", "shape", "x"]), inner, max_size=4)),
                     max_leaves=10)


@settings(max_examples=400, deadline=None, database=None)
@given(_JSON)
def test_any_json_document_is_a_checked_reply_or_a_protocol_error(document):
    body = json.dumps(document).encode()
    try:
        reply = protocol.check_reply(protocol.parse_body(body))
    except protocol.ProtocolError:
        return
    assert type(reply["ok"]) is bool
    if not reply["ok"]:
        assert all(type(v) is str and len(v) <= protocol.ERROR_FIELDS[k] for k, v in reply["error"].items())


@settings(max_examples=200, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1))
def test_any_header_is_a_size_within_the_limit_or_a_protocol_error(size):
    try:
        assert protocol.parse_header(size.to_bytes(4, "big")) == size <= protocol.MAX_FRAME
    except protocol.ProtocolError:
        assert size > protocol.MAX_FRAME


def test_a_reply_of_millions_of_small_values_is_refused_before_parsing():
    from course.protocol import MAX_VALUES, ProtocolError, parse_body

    bomb = b'{"ok": true, "value": [' + b"{}," * (MAX_VALUES + 1) + b"{}]}"
    with pytest.raises(ProtocolError, match="about 2000006 JSON values"):  # counted (commas and braces), never parsed
        parse_body(bomb)
    numbers = b'{"ok": true, "value": [' + b"0.5," * (MAX_VALUES + 1) + b"0.5]}"
    with pytest.raises(ProtocolError, match="JSON values"):
        parse_body(numbers)
    assert parse_body(b'{"ok": true, "value": [' + b"1," * 1000 + b"1]}")["value"] == [1] * 1001
