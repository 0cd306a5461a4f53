"""Hidden suite of 03_layers_mlp, parts softmax_jacobian and cross_entropy.

Expected values come from PyTorch in float64: torch.softmax, and full Jacobians of softmax and
log_softmax from torch.autograd.functional.jacobian, row by row (J[i, j] = d out_i / d x_j).
cross_entropy is compared with F.cross_entropy (mean) and its autograd gradient.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.autograd.functional import jacobian

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Same float64 formulas on both sides: softmax values and Jacobian entries are in [-1, 1] and agree
# to ~1e-15; the losses are up to ~2000 (logits of magnitude 1000), so the loss tolerance is relative.
# A transposed log-softmax Jacobian or a missing max shift errs by O(0.1) or gives inf/nan.
ATOL, RTOL = 1e-10, 1e-10


def rng_for(sub, case):
    """Inputs differ per submission (sub.seed) and per case, and are the same on a regrade."""
    return np.random.default_rng([sub.seed, case])


INPUT_NAMES = ["7", "4x7", "2x3x5", "3x9-large", "2x5-all-equal-negative"]


def _input(sub, name):
    rng = rng_for(sub, 500 + INPUT_NAMES.index(name))
    if name == "7":
        return rng.standard_normal(7)
    if name == "4x7":
        return rng.standard_normal((4, 7))
    if name == "2x3x5":
        return 2.0 * rng.standard_normal((2, 3, 5))
    if name == "3x9-large":
        big = 500.0 * rng.standard_normal((3, 9))                  # logits of magnitude ~1000, both signs
        big[0, :3] = [1000.0, 1000.0, -1000.0]                     # a tie at the top
        return big
    return np.full((2, 5), -1e4 * (1.0 + rng.random()))


def _call(sub, name, x):
    try:
        got = sub.probe("call_fn", name, x)
    except StudentError as exc:
        fail(f"{name}(x) for x of shape {x.shape}: {exc}")
    if got["value"] is None or isinstance(got["value"], str):
        fail(f"{name}(x) for x of shape {x.shape} returned {got['type']}, not an array")
    expect(unchanged(got["x_after"], x), f"{name}(x) must not modify its input x")
    return got["value"]


def _row_jacobians(fn, x):
    """(..., C) -> (..., C, C) with J[..., i, j] = d fn(row)_i / d row_j, row by row."""
    rows = x.reshape(-1, x.shape[-1])
    Js = [jacobian(fn, torch.tensor(r, dtype=torch.float64)).numpy() for r in rows]
    return np.stack(Js).reshape(x.shape + (x.shape[-1],))


def _small(x):
    return x if x.size <= 12 else None


@pytest.mark.part("softmax_jacobian")
@pytest.mark.parametrize("name", INPUT_NAMES)
def test_softmax(sub, name):
    """softmax가 모든 입력(큰 logits, 같은 값)에서 맞고 입력을 바꾸지 않는다"""
    x = _input(sub, name)
    got = _call(sub, "softmax", x)
    want = torch.softmax(torch.tensor(x, dtype=torch.float64), dim=-1).numpy()
    assert_close(got, want, atol=ATOL, rtol=RTOL, what=f"softmax(x) over the last axis, x of shape {x.shape}"
                 + (" with logits of magnitude ~1000 (subtract the row max)" if "large" in name or "neg" in name else ""),
                 inputs=_small(x))


@pytest.mark.part("softmax_jacobian")
@pytest.mark.parametrize("kind", ["softmax", "log_softmax"])
@pytest.mark.parametrize("name", INPUT_NAMES[:4])
def test_jacobians(sub, kind, name):
    """softmax와 log-softmax의 Jacobian (J[i, j] = d out_i / d x_j)이 맞다"""
    # One check: both Jacobians, J[..., i, j] = d out_i / d x_j (row i = output, column j = input)
    x = _input(sub, name)
    got = _call(sub, f"{kind}_jacobian", x)
    fn = (lambda r: torch.softmax(r, dim=-1)) if kind == "softmax" else (lambda r: torch.log_softmax(r, dim=-1))
    want = _row_jacobians(fn, x)
    rule = "d s_i / d x_j" if kind == "softmax" else "d log s_i / d x_j: row i = output, column j = input"
    assert_close(got, want, atol=ATOL, rtol=RTOL,
                 what=f"{kind}_jacobian(x) for x of shape {x.shape} (J[..., i, j] = {rule})", inputs=_small(x))


# =========================================================================== cross_entropy (1)
CE_NAMES = ["7x5", "1x4", "9x11-shifted", "5x3-large"]


def _ce_case(sub, name):
    rng = rng_for(sub, 600 + CE_NAMES.index(name))
    if name == "7x5":
        return rng.standard_normal((7, 5)), rng.integers(0, 5, 7)
    if name == "1x4":
        return rng.standard_normal((1, 4)), rng.integers(0, 4, 1)
    if name == "9x11-shifted":
        return rng.standard_normal((9, 11)) * 3.0 - 500.0, rng.integers(0, 11, 9)
    # the targets sit on the smallest logit of their row: softmax underflows to 0 there, log(0) = -inf
    large = 1000.0 * rng.uniform(-1.0, 1.0, (5, 3))
    large[:, 0] = 1000.0
    return large, np.argmin(large, axis=1)





@pytest.mark.part("cross_entropy")
@pytest.mark.parametrize("name", CE_NAMES)
def test_cross_entropy(sub, name):
    """cross_entropy의 loss(float, 평균)와 gradient (p - y)/N이 큰 logits에서도 맞다"""
    logits, targets = _ce_case(sub, name)
    # the stand-in softmax (probes.py) knows softmax(logits) for these logits only
    table = torch.softmax(torch.tensor(logits, dtype=torch.float64), dim=-1).numpy()
    what = f"cross_entropy(logits of shape {logits.shape}, targets of shape {targets.shape})" + (
        " with logits of magnitude ~1000 (use log-sum-exp)" if "large" in name else "")
    try:
        got = sub.probe("ce_run", logits, targets, table)
    except StudentError as exc:
        fail(f"{what}: {exc}")
    if not got["ok"]:
        fail(f"{what} must return a tuple (loss, dlogits), got {got['type']}")
    tz = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(tz, torch.tensor(targets, dtype=torch.int64))
    loss.backward()
    inputs = {"logits": _small(logits), "targets": targets} if logits.size <= 12 else {"targets": targets}
    value = got["loss"]
    # the notebook asks for a float: a Python float or a NumPy float64 scalar, not an array of shape (1,)
    if got["loss_type"] not in ("builtins.float", "numpy.float64") or not isinstance(value, float):
        fail(f"{what}: the loss must be a float, got {got['loss_type']}"
             + (f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""))
    expect(unchanged(got["logits_after"], logits), f"{what} must not modify its input logits")
    assert_close(value, loss.item(), atol=ATOL, rtol=RTOL, what=f"{what}: loss (the MEAN over the batch)", inputs=inputs)
    assert_close(got["grad"], tz.grad.numpy(), atol=ATOL, rtol=RTOL,
                 what=f"{what}: dlogits (must be (softmax - onehot) / N)", inputs=inputs)
