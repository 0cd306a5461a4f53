"""Judge-side checks of what a probe's `describe(value, inputs)` recorded in the sandbox.

    from course.judge.described import expect_described
    out = sub.probe("attention", q, k, v)["out"]
    expect_described(out, what="attention(q, k, v)", type="torch.Tensor", dtype="float32",
                     shape=(5, 3), requires_grad=True, aliases=())
    assert_close(out["value"], expected, ...)

Each argument left out (None) is not checked. The messages are the judge's own, so the
feedback shows them in the course's language (course.judge.messages).
"""
from __future__ import annotations

import numpy as np

from course.judge.check import Failure


def _shape(shape) -> str:
    return "None" if shape is None else str(tuple(int(s) for s in shape))


def expect_described(got: dict, *, what: str, type: str | None = None, dtype: str | None = None,
                     shape=None, requires_grad: bool | None = None, device: str | None = None,
                     aliases=None) -> None:
    """Raise Failure at the first property that differs: type, dtype, shape, requires_grad,
    device, then aliasing (`aliases=()`: shares memory with no input)."""
    if not isinstance(got, dict) or "type" not in got:
        raise Failure(f"{what}: the probe recorded nothing to check")
    if type is not None and got["type"] != type:
        raise Failure(f"{what}: returned {got['type']}, expected {type}")
    if got.get("exact") is False and any(x is not None for x in (type, dtype, requires_grad, device, aliases)):
        # A subclass can answer for its own dtype/requires_grad: exact types only.
        raise Failure(f"{what}: returned {got['type']}, a subclass; return a plain tensor/array")
    if dtype is not None and got.get("dtype") != dtype:
        raise Failure(f"{what}: dtype {got.get('dtype')}, expected {dtype}")
    if shape is not None and (got.get("shape") is None or tuple(got["shape"]) != tuple(shape)):
        raise Failure(f"{what}: shape {_shape(got.get('shape'))}, expected {_shape(shape)}")
    if requires_grad is not None and got.get("requires_grad") is not requires_grad:
        raise Failure(f"{what}: requires_grad is {got.get('requires_grad')}, expected {requires_grad}"
                      + (" (the result is cut off from the graph)" if requires_grad else " (detach it)"))
    if device is not None and got.get("device") != device:
        raise Failure(f"{what}: on device {got.get('device')}, expected {device}")
    if aliases is not None and sorted(got.get("aliases") or []) != sorted(aliases):
        shared = ", ".join(got.get("aliases") or []) or "none"
        raise Failure(f"{what}: shares memory with input(s) {shared}, expected "
                      f"{', '.join(aliases) or 'none'} (return a new tensor, or a view where asked)")


def unchanged(after, sent) -> bool:
    """An input as a probe read it after the call (a `describe(x)` or its "value") holds exactly
    what the judge sent, in the dtype the student was given (same shape, same values, NaNs in the
    same places). Compared here, in the judge: in the sandbox numpy/torch may be patched."""
    if isinstance(after, dict):
        after = after.get("value")
    if isinstance(after, (list, tuple, int, float)):
        after = np.asarray(after)
    if not isinstance(after, np.ndarray):
        return False
    sent = np.asarray(sent)
    return after.shape == sent.shape and bool(
        np.array_equal(after, sent.astype(after.dtype, copy=False), equal_nan=after.dtype.kind in "fc"))


def expect_unchanged(after, sent, *, what: str, name: str) -> None:
    """Failure unless `unchanged(after, sent)`."""
    if not unchanged(after, sent):
        raise Failure(f"{what} changed its input {name}; leave the inputs as they are "
                      f"(compute into a new tensor/array instead of in place)")
