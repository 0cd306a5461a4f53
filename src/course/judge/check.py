"""Assertions for hidden tests whose messages help the student without revealing the answer.

A failing check raises `Failure`; its message goes into the student's feedback as written.
Messages name what was checked, shapes, dtypes, the size and place of the largest error and,
when the test passes it, the (small) input; never the expected values.
"""
from __future__ import annotations

import numpy as np


class Failure(AssertionError):
    """A hidden check failed; str(self) is safe to show the student."""


def fail(message: str):
    raise Failure(message)


def expect(condition, message: str) -> None:
    if not condition:
        raise Failure(message)


def _format_inputs(inputs) -> str:
    if inputs is None:
        return ""
    if isinstance(inputs, dict):
        parts = [f"{key}={_short(value)}" for key, value in inputs.items()]
        return " for input " + ", ".join(parts)
    return f" for input {_short(inputs)}"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= 12:
            return np.array2string(value, precision=4, separator=", ").replace("\n", "")
        return f"array of shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def as_array(actual, what: str) -> np.ndarray:
    """The student's value as a float/int array, or a Failure saying why it is not one."""
    if isinstance(actual, np.ndarray):
        return actual
    if isinstance(actual, (bool, int, float)):
        return np.asarray(actual)
    if isinstance(actual, list):
        try:
            return np.asarray(actual, dtype=float)
        except (TypeError, ValueError):
            pass
    raise Failure(f"{what}: expected an array of numbers, got {type(actual).__name__}")


def assert_close(actual, expected, *, atol: float, rtol: float = 0.0, what: str, inputs=None) -> None:
    """Shape, finiteness and |actual - expected| <= atol + rtol * |expected|, elementwise."""
    got = as_array(actual, what)
    want = np.asarray(expected)

    def failure(problem: str) -> Failure:
        # The inputs are formatted only into a failure: formatting them for every passing check
        # cost 02's suite a tenth of its time.
        return Failure(f"{what}: {problem}{_format_inputs(inputs)}")

    if got.shape != want.shape:
        raise failure(f"shape {tuple(got.shape)} but expected {tuple(want.shape)}")
    if got.dtype.kind not in "biuf":
        raise failure(f"dtype {got.dtype} is not numeric")
    got64 = got.astype(np.float64)
    want64 = want.astype(np.float64)
    bad_finite = ~np.isfinite(got64) & np.isfinite(want64)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        raise failure(f"{int(bad_finite.sum())} non-finite value(s), first at index {index}")
    error = np.abs(got64 - want64)
    allowed = atol + rtol * np.abs(want64)
    over = error > allowed
    if over.any():
        flat = int(np.argmax(np.where(over, error - allowed, -np.inf)))
        index = np.unravel_index(flat, error.shape) if error.shape else ()
        scale = abs(float(want64.flat[flat]))
        rel = f" (rel {float(error.flat[flat]) / scale:.3g})" if scale > 0 else ""
        raise failure(f"{int(over.sum())} of {error.size} value(s) out of tolerance; max abs error "
                      f"{float(error.max()):.3g}{rel} at index {tuple(int(i) for i in index)}, "
                      f"allowed atol={atol:g} rtol={rtol:g}")


def assert_equal(actual, expected, *, what: str, reveal: bool = False) -> None:
    """Exact equality for small values (ints, strings, shapes); `reveal` shows the expected value."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        same = isinstance(actual, np.ndarray) and np.array_equal(actual, expected)
    else:
        same = type(actual) in (type(expected), int, float) and actual == expected
    if not same:
        hint = f", expected {expected!r}" if reveal else ""
        raise Failure(f"{what}: got {_short(actual)}{hint}")
