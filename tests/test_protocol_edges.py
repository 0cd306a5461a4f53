"""Edges of the wire protocol: the exact limits (nesting, frame size, error fields, dtype and shape
lengths), the frame layout, and reads and writes that arrive in pieces."""
from __future__ import annotations

import base64
import enum
import json
import os
import threading

import numpy as np
import pytest

from course import protocol


def _nested(levels: int):
    value = 1
    for _ in range(levels):
        value = [value]
    return value


def _body(message: dict) -> bytes:
    return json.dumps(message).encode()


def test_nesting_is_refused_past_64_levels_and_only_past():
    assert protocol.encode(_nested(64)) == _nested(64)
    with pytest.raises(protocol.UnsupportedValue, match="deeper than 64 levels"):
        protocol.encode(_nested(66))
    with pytest.raises(protocol.UnsupportedValue):
        protocol.encode(_nested(65))


def test_a_frame_is_a_big_endian_length_then_utf8_json():
    data = protocol.frame({"k": "é"})
    body = json.dumps({"k": "é"}).encode("utf-8")
    assert data[:4] == len(body).to_bytes(4, "big") and data[4:] == body


def test_not_a_number_and_infinities_travel():
    got = protocol.parse_body(protocol.frame({"v": [float("nan"), float("inf"), -float("inf")]})[4:])["v"]
    assert got[0] != got[0] and got[1:] == [float("inf"), -float("inf")]


def test_a_frame_of_exactly_the_limit_is_sent_and_one_byte_more_is_refused():
    overhead = len(protocol.frame({"v": ""})) - 4
    exact = protocol.frame({"v": "x" * (protocol.MAX_FRAME - overhead)})
    assert len(exact) == protocol.MAX_FRAME + 4
    with pytest.raises(protocol.UnsupportedValue, match=f"exceeds the {protocol.MAX_FRAME}-byte limit"):
        protocol.frame({"v": "x" * (protocol.MAX_FRAME - overhead + 1)})
    assert protocol.parse_header(protocol.MAX_FRAME.to_bytes(4, "big")) == protocol.MAX_FRAME
    assert protocol.MAX_FRAME == 64 * 2**20


def test_int_and_float_subclasses_are_not_plain_data():
    class Level(enum.IntEnum):
        LOW = 1

    class Money(float):
        pass

    for value in (Level.LOW, Money(2.0)):
        with pytest.raises(protocol.UnsupportedValue, match="is not plain data"):
            protocol.encode(value)


def test_numpy_scalars_become_python_numbers_or_zero_d_arrays():
    assert type(protocol.encode(np.bool_(True))) is bool
    assert type(protocol.encode(np.uint8(3))) is int and type(protocol.encode(np.float32(0.5))) is float
    got = protocol.parse_body(protocol.frame({"c": np.complex64(1 + 2j), "s": np.str_("ab")})[4:])
    assert got["c"].shape == () and got["c"].dtype == np.complex64 and got["c"].item() == 1 + 2j
    assert got["s"] == "ab"  # numpy text scalars are str: they travel as text


def test_a_dict_key_that_is_not_text_is_named():
    with pytest.raises(protocol.UnsupportedValue, match="dict keys must be str, got int"):
        protocol.encode({"ok": {3: 1}})
    with pytest.raises(protocol.UnsupportedValue, match="builtins.set is not plain data"):
        protocol.encode({1, 2})


def test_tuples_travel_as_lists_and_dicts_keep_every_key():
    assert protocol.encode({"a": (1, (2, 3)), "b": {"c": None}}) == {"a": [1, [2, 3]], "b": {"c": None}}


def _array(dtype: str, shape, data: bytes) -> bytes:
    return _body({"v": {"__ndarray__": base64.b64encode(data).decode(), "dtype": dtype, "shape": shape}})


def test_array_fields_have_bounded_lengths():
    # a dtype string of 16 characters is read, 17 is refused unread; 32 dimensions are read, 33 refused
    ok = protocol.parse_body(_array("<U00000000000001", [1], b"a\0\0\0"))["v"]
    assert ok.tolist() == ["a"]
    with pytest.raises(protocol.ProtocolError, match="payload and dtype must be strings"):
        protocol.parse_body(_array("<U000000000000001", [1], b"a\0\0\0"))
    assert protocol.parse_body(_array("|u1", [1] * 32, b"\0"))["v"].shape == (1,) * 32
    with pytest.raises(protocol.ProtocolError, match="shape must be a list of non-negative ints"):
        protocol.parse_body(_array("|u1", [1] * 33, b"\0"))


@pytest.mark.parametrize("fields, words", [
    ({"__ndarray__": 5, "dtype": "<f8", "shape": [0]}, "payload and dtype must be strings"),
    ({"__ndarray__": "", "dtype": 8, "shape": [0]}, "payload and dtype must be strings"),
    ({"__ndarray__": "", "dtype": "<f8", "shape": 0}, "shape must be a list"),
    ({"__ndarray__": "", "dtype": "<f8", "shape": [True]}, "shape must be a list"),
    ({"__ndarray__": "", "dtype": "<f8", "shape": [1.0]}, "shape must be a list"),
    ({"__ndarray__": "!!!!", "dtype": "|u1", "shape": [3]}, "malformed array"),
    ({"__ndarray__": "AAAA", "dtype": "|O", "shape": [3]}, "is not plain data"),
    ({"__ndarray__": "AAAA", "dtype": "<f8", "shape": [3]}, "3 bytes do not fill shape [3] of <f8"),
])
def test_each_malformed_array_field_is_named(fields, words):
    with pytest.raises(protocol.ProtocolError, match=r"^malformed array in reply: ") as info:
        protocol.parse_body(_body({"v": fields}))
    assert words in str(info.value)


@pytest.mark.parametrize("fields, message", [
    ({"__ndarray__": 5, "dtype": "<f8", "shape": [0]}, "payload and dtype must be strings"),
    ({"__ndarray__": "", "dtype": "<f8", "shape": [-1]}, "shape must be a list of non-negative ints"),
])
def test_the_whole_message_of_a_malformed_array(fields, message):
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.parse_body(_body({"v": fields}))
    assert str(info.value) == f"malformed array in reply: {message}"


def test_a_payload_with_characters_outside_base64_is_refused_not_skipped():
    # "AAA!A" without the "!" would be three valid bytes
    with pytest.raises(protocol.ProtocolError, match="malformed array"):
        protocol.parse_body(_body({"v": {"__ndarray__": "AAA!A", "dtype": "|u1", "shape": [3]}}))


def test_an_array_that_is_not_plain_data_is_named_by_its_dtype():
    with pytest.raises(protocol.UnsupportedValue, match="^numpy arrays of dtype object are not plain data$"):
        protocol.encode(np.array([object()]))


def test_zero_and_zero_sized_dimensions_are_arrays_of_no_bytes():
    got = protocol.parse_body(_array("<i4", [0, 5], b""))["v"]
    assert got.shape == (0, 5) and got.dtype == np.int32
    assert protocol.parse_body(_array("<i4", [], b"\1\0\0\0"))["v"].item() == 1


def test_an_object_with_array_fields_and_more_is_left_a_plain_dict():
    fields = {"__ndarray__": "AA==", "dtype": "|u1", "shape": [1], "extra": 1}
    assert protocol.parse_body(_body({"v": fields}))["v"] == fields


def test_a_dtype_refused_once_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(protocol.ProtocolError, match="not plain data"):
            protocol.parse_body(_array("|V1", [1], b"\0"))


def test_bad_json_is_reported_with_at_most_200_characters_of_the_parsers_message():
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.parse_body(b'{"a": ' + b"x" * 5000)
    message = str(info.value)
    assert message.startswith("reply is not valid JSON: ")
    assert len(message) <= len("reply is not valid JSON: ") + 200


@pytest.mark.parametrize("body, words", [
    (b"[" * 100_000 + b"]" * 100_000, "reply nested too deeply"),
    (b"\xff", "reply is not valid JSON"),
    (b"3", "reply is not a JSON object"),
])
def test_each_kind_of_garbage_gets_its_own_message(body, words):
    with pytest.raises(protocol.ProtocolError, match=words):
        protocol.parse_body(body)


def test_each_error_field_is_accepted_at_its_limit_and_refused_one_past():
    for key, limit in protocol.ERROR_FIELDS.items():
        if key == "origin":
            continue
        assert protocol.check_reply({"ok": False, "error": {key: "x" * limit}})
        with pytest.raises(protocol.ProtocolError, match=f"error field '{key}' is not a string of at most {limit}"):
            protocol.check_reply({"ok": False, "error": {key: "x" * (limit + 1)}})
    assert protocol.ERROR_FIELDS == {"type": 200, "message": 4000, "where": 200, "trace": 8000, "origin": 16}


def test_an_error_reply_may_omit_fields_and_names_only_two_origins():
    assert protocol.check_reply({"ok": False, "error": {}}) == {"ok": False, "error": {}}
    for origin in ("student", "check"):
        assert protocol.check_reply({"ok": False, "error": {"origin": origin}})["error"]["origin"] == origin
    with pytest.raises(protocol.ProtocolError, match="neither 'student' nor 'check'"):
        protocol.check_reply({"ok": False, "error": {"origin": "judge"}})


def test_a_reply_that_is_not_an_object_or_has_no_boolean_ok_is_named():
    with pytest.raises(protocol.ProtocolError, match="reply is not a JSON object"):
        protocol.check_reply([1])
    with pytest.raises(protocol.ProtocolError, match="reply field 'ok' is not true or false"):
        protocol.check_reply({"ok": 0, "value": 1})
    with pytest.raises(protocol.ProtocolError, match="reply field 'error' is not an error description"):
        protocol.check_reply({"ok": False, "error": ["type"]})


def test_a_reply_with_wrong_fields_names_at_most_eight_of_them_cut_to_40_characters():
    many = {"ok": True, **{f"{'k' * 50}{i}": i for i in range(12)}}
    with pytest.raises(protocol.ProtocolError) as info:
        protocol.check_reply(many)
    names = str(info.value).split(", not ", 1)[1].split(", ")
    assert str(info.value).startswith("a successful reply has the fields ok and value, not ")
    assert len(names) == 8 and all(len(n) <= 40 for n in names)
    with pytest.raises(protocol.ProtocolError, match=r"fields ok and error, not error, ok, value$"):
        protocol.check_reply({"ok": False, "error": {}, "value": 1})
    assert protocol._names({}) == "none"


def test_frames_written_and_read_in_pieces_arrive_whole():
    read_fd, write_fd = os.pipe()
    message = {"big": "x" * (3 << 20), "arr": np.arange(10)}  # larger than a pipe's buffer
    writer = threading.Thread(target=protocol.send, args=(write_fd, message))
    writer.start()
    got = protocol.receive(read_fd)
    writer.join()
    os.close(write_fd)
    assert got["big"] == message["big"] and got["arr"].tolist() == list(range(10))
    with pytest.raises(EOFError, match="^peer closed the channel$"):
        protocol.read_exact(read_fd, 1)
    os.close(read_fd)


def test_read_exact_reads_exactly_and_leaves_the_rest():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"abcdef")
    assert protocol.read_exact(read_fd, 4) == b"abcd"
    assert protocol.read_exact(read_fd, 0) == b""
    assert protocol.read_exact(read_fd, 2) == b"ef"
    os.close(write_fd)
    os.close(read_fd)


def test_short_writes_are_continued_until_the_whole_frame_is_sent(monkeypatch):
    # POSIX lets write() take fewer bytes than asked (a signal, a non-blocking peer): simulate it
    real_write = os.write
    sizes = []

    def short_write(fd, data):
        sizes.append(real_write(fd, bytes(data[:1000])))
        return sizes[-1]

    read_fd, write_fd = os.pipe()
    protocol._write_all(write_fd, protocol.frame({"v": "x" * 5000}), _write=short_write)
    os.close(write_fd)
    assert len(sizes) > 5 and protocol.receive(read_fd) == {"v": "x" * 5000}
    os.close(read_fd)
