"""Plain-data wire format between the judge and the sandbox.

Frames are a 4-byte big-endian length followed by UTF-8 JSON. numpy arrays travel as their raw
bytes (base64) with a dtype string and a shape; only plain dtypes (bool, numbers, fixed-width
strings) are accepted back. Nothing received is unpickled or evaluated, so a hostile sandbox can
at worst send wrong *data*, which the judge checks.
"""
from __future__ import annotations

import base64
import json
import math
import os
import struct

import numpy as np

MAX_FRAME = 64 * 2**20  # a reply larger than this fails the test instead of filling the judge's memory
# JSON values a reply may hold outside its arrays (which travel as one base64 string each). Bytes
# are not the judge's cost: 64 MiB of `{},{},...` parse into 22 million dicts (2 GB, 100 s).
# A probe's plain data is small (records, shapes, a few lists); an upper bound on the count, the
# commas, braces and brackets of the body, is checked before parsing.
MAX_VALUES = 1_000_000
_HEADER = struct.Struct(">I")
_ARRAY_KEY = "__ndarray__"
_ARRAY_FIELDS = {_ARRAY_KEY, "dtype", "shape"}
_PLAIN_KINDS = "biufcSU"  # bool, integers, floats, complex, fixed-width bytes and text


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed plain-data frame."""


class UnsupportedValue(TypeError):
    """A value that is not plain data was about to be sent."""


# The sending side runs in the sandbox, after the student's cells: every library function it uses
# is bound here, at import (default arguments), so a cell that patches numpy/json/base64/os or
# builtins cannot rewrite what a probe sends (red team "probe-lies"); arrays are read through
# np.ndarray's own descriptors, so an ndarray subclass travels as the plain array it holds.
# Rebinding this module's own functions remains possible: see course.sandbox.facts.


def encode(value, _depth: int = 0, *, _isinstance=isinstance, _type=type, _generic=np.generic, _nd=np.ndarray,
           _asarray=np.asarray, _view=np.ndarray.view, _dtype_of=np.ndarray.__dict__["dtype"].__get__,
           _item=np.ndarray.item):
    """Turn plain data into JSON-ready structures; refuse everything else."""
    if _depth > 64:
        raise UnsupportedValue("value nested deeper than 64 levels")
    if value is None or _type(value) in (bool, str):
        return value
    if _type(value) in (int, float):
        return value
    if _isinstance(value, _generic):
        array = _view(_asarray(value), _nd)
        if _dtype_of(array) == object:
            raise UnsupportedValue("numpy object scalars are not plain data")
        if _dtype_of(array).kind in "biuf":
            return _item(array)
        return _encode_array(array)
    if _isinstance(value, _nd):
        return _encode_array(_view(value, _nd))
    if type(value) in (list, tuple):
        return [encode(v, _depth + 1) for v in value]
    if type(value) is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise UnsupportedValue(f"dict keys must be str, got {type(key).__name__}")
            out[key] = encode(item, _depth + 1)
        return out
    raise UnsupportedValue(f"{type(value).__module__}.{type(value).__qualname__} is not plain data")


def _plain(dtype: np.dtype) -> bool:
    """A dtype whose bytes are just numbers or fixed-width text: no objects, records or sub-arrays."""
    return dtype.kind in _PLAIN_KINDS and dtype.fields is None and dtype.subdtype is None


def _encode_array(array: np.ndarray, *, _dtype_of=np.ndarray.__dict__["dtype"].__get__,
                  _shape_of=np.ndarray.__dict__["shape"].__get__, _tobytes=np.ndarray.tobytes,
                  _b64=base64.b64encode, _int=int):
    dtype = _dtype_of(array)   # array is an exact ndarray (encode made it one)
    if not _plain(dtype):
        raise UnsupportedValue(f"numpy arrays of dtype {dtype} are not plain data")
    data = _tobytes(array)     # C order whatever the layout
    return {_ARRAY_KEY: _b64(data).decode("ascii"), "dtype": dtype.str,
            "shape": [_int(n) for n in _shape_of(array)]}


def _object_hook(value: dict):
    """Inverse of encode for data from an untrusted peer, one object at a time: the JSON parser
    calls it on every object it builds, innermost first, and it rebuilds the arrays."""
    return _decode_array(value) if value.keys() == _ARRAY_FIELDS else value


_DTYPES: dict[str, np.dtype] = {}  # dtype strings already checked: 02 receives ~200 arrays a submission


def _decode_array(fields: dict) -> np.ndarray:
    # Parsed by hand rather than with np.load: an .npy header goes through ast.literal_eval,
    # which was a twentieth of a fast suite's time, for ~200 arrays per submission.
    payload, dtype, shape = fields[_ARRAY_KEY], fields["dtype"], fields["shape"]
    try:
        if not isinstance(payload, str) or not isinstance(dtype, str) or len(dtype) > 16:
            raise ValueError("payload and dtype must be strings")
        kind = _DTYPES.get(dtype)
        if kind is None:
            kind = np.dtype(dtype)
            if not _plain(kind):
                raise ValueError(f"dtype {dtype!r} is not plain data")
            if len(_DTYPES) < 64:
                _DTYPES[dtype] = kind
        if (not isinstance(shape, list) or len(shape) > 32
                or not all(type(n) is int and n >= 0 for n in shape)):
            raise ValueError("shape must be a list of non-negative ints")
        data = base64.b64decode(payload, validate=True)
        count = math.prod(shape)  # exact Python ints: no overflow to wrap a huge shape into a small one
        if count * kind.itemsize != len(data):
            raise ValueError(f"{len(data)} bytes do not fill shape {shape} of {dtype}")
        array = np.frombuffer(data, dtype=kind).reshape(shape)
    except Exception as exc:  # noqa: BLE001 - malformed array fields from the sandbox
        raise ProtocolError(f"malformed array in reply: {exc}") from None
    return array  # frombuffer over immutable bytes: read-only, like every value from the sandbox


def frame(message: dict, *, _dumps=json.dumps, _len=len, _pack=_HEADER.pack) -> bytes:
    data = _dumps(encode(message), allow_nan=True).encode("utf-8")
    if _len(data) > MAX_FRAME:
        raise UnsupportedValue(f"message of {_len(data)} bytes exceeds the {MAX_FRAME}-byte limit")
    return _pack(_len(data)) + data


def send(fd: int, message: dict) -> None:
    _write_all(fd, frame(message))


def _write_all(fd: int, data: bytes, *, _memoryview=memoryview, _write=os.write) -> None:
    view = _memoryview(data)
    while view:
        written = _write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def parse_header(header: bytes) -> int:
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
    return size


def parse_body(body: bytes) -> dict:
    values = body.count(b",") + body.count(b"{") + body.count(b"[")
    if values > MAX_VALUES:
        raise ProtocolError(f"reply holds about {values} JSON values, over the {MAX_VALUES} a reply may have "
                            "(send arrays, not lists)")
    try:
        # Arrays are rebuilt by the parser's object hook, in C's walk over the document (a
        # Python walk over every list of a reply was a twentieth of a judge).
        message = json.loads(body.decode("utf-8"), object_hook=_object_hook)
    except RecursionError:
        raise ProtocolError("reply nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"reply is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(message, dict):
        raise ProtocolError("reply is not a JSON object")
    return message


# The fields of an error reply and the most of each the judge keeps (the sandbox cuts them the same).
ERROR_FIELDS = {"type": 200, "message": 4000, "where": 200, "trace": 8000, "origin": 16}
_ORIGINS = ("student", "check")


def check_reply(message: dict) -> dict:
    """The judge's check of a reply's shape, field by field: {"ok": true, "value": plain data}
    or {"ok": false, "error": {bounded strings}}. Raises ProtocolError for anything else, so a
    forged or malformed reply fails its test instead of reaching the judge's code."""
    if not isinstance(message, dict):
        raise ProtocolError("reply is not a JSON object")
    ok = message.get("ok")
    if type(ok) is not bool:
        raise ProtocolError("reply field 'ok' is not true or false")
    if ok:
        if set(message) != {"ok", "value"}:
            raise ProtocolError(f"a successful reply has the fields ok and value, not {_names(message)}")
        return message
    if set(message) != {"ok", "error"}:
        raise ProtocolError(f"a failed reply has the fields ok and error, not {_names(message)}")
    error = message["error"]
    if not isinstance(error, dict) or not set(error) <= set(ERROR_FIELDS):
        raise ProtocolError("reply field 'error' is not an error description")
    for key, value in error.items():
        if type(value) is not str or len(value) > ERROR_FIELDS[key]:
            raise ProtocolError(f"error field {key!r} is not a string of at most {ERROR_FIELDS[key]} characters")
    if "origin" in error and error["origin"] not in _ORIGINS:
        raise ProtocolError("error field 'origin' is neither 'student' nor 'check'")
    return message


def _names(message: dict) -> str:
    return ", ".join(sorted(str(k)[:40] for k in message)[:8]) or "none"


def receive(fd: int) -> dict:
    """Blocking read of one frame (used inside the sandbox, where the judge is trusted)."""
    return parse_body(read_exact(fd, parse_header(read_exact(fd, _HEADER.size))))
