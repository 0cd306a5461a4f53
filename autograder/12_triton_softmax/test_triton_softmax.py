"""Hidden suite of 12_triton_softmax: Triton softmax kernels, checked against float64 softmax.

The kernels are launched by the probes exactly as the notebook specifies, on guarded buffers
(see probes.py): a write outside the output rows is reported as such, a read past the row end
brings NaN or the neighbouring columns into the result. Inputs are seeded, with odd widths,
column slices of wider tensors (row stride != n_cols), all-negative rows (padding must be -inf),
large magnitudes (the max must be subtracted) and, for the tiled kernel, rows whose maximum comes
late (the running sum must be rescaled). Sizes are small: without a GPU the kernels run in the
Triton interpreter, one program at a time.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from course.judge.check import assert_close, expect, fail

# Tolerances.
# The kernels compute in float32; the expected values are float64 softmax of the same float32
# inputs. After the max subtraction every exponent is in [-88, 0]: rounding x - m costs at most
# ulp(88)/2 ~ 4e-6 absolute in the exponent (4e-6 relative in exp), exp itself a few ulp
# (GPU ex2.approx included), and the row sum of <= 300 terms ~300 * 6e-8 relative. 1e-4 relative is
# ~10x above all of that together; 1e-6 absolute covers outputs that underflow in float32
# (true value < 1e-38, kernel 0). Every mistake this suite targets changes outputs by >= 1e-2
# relative, or produces inf / nan.
ATOL, RTOL = 1e-6, 1e-4
# Drop rate of the kernel: 2223 Bernoulli(0.3) draws; the standard deviation of the observed rate
# is sqrt(0.21 / 2223) ~ 0.01, so a correct kernel is within 0.05 of p (5 sigma) whatever its offset
# scheme, while keeping with probability p instead of 1 - p is off by |1 - 2p| = 0.4. In the wrapper
# test the mask comes from the reference kernel (a fixed torch generator), so its rate is fixed
# (0.27 for seed 5, p = 0.3) and only a wrapper that passes a wrong p moves it.
RATE_TOL = 0.05
# Two different seeds: a correct kernel changes each mask bit with probability 2p(1-p) = 0.5 at
# p = 0.5 (448 elements: 0.5 +- 0.024); requiring >= 20% changed is 12 sigma from 0.5.
MIN_CHANGED = 0.2


def _next_pow2(n: int) -> int:
    return 1 << max(int(n) - 1, 0).bit_length()


def _softmax(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _rows(seed: int, n_rows: int, width: int, kind: str = "normal") -> np.ndarray:
    """Seeded float32 inputs: 'normal' (std 3), 'negative' (all values near -1000), 'large' (std 300),
    'late' (maxima in the last columns: ramps and a late spike), 'mixed' (a bit of each)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, width))
    if kind == "normal":
        x = 3.0 * x
    elif kind == "negative":
        x = -1000.0 + 2.0 * x
    elif kind == "large":
        x = 300.0 * x
    elif kind == "late":
        ramp = np.linspace(-6.0, 6.0, width)
        x = ramp * rng.uniform(1.0, 3.0, (n_rows, 1)) + 0.3 * x
        x[::2, -1] += 25.0                          # a spike in the very last column of every other row
    elif kind == "mixed":
        x = 3.0 * x
        x[0::3] = -1000.0 + x[0::3]
        x[1::3] = 100.0 * x[1::3]
    else:
        raise LookupError(kind)
    return x.astype(np.float32)


def _launch(sub, kernel, xw, col0, n_cols, out_stride, block, extras=None):
    """The student's kernel on x = xw[:, col0:col0+n_cols]; fails on stray writes or a changed input."""
    results = sub.probe("launch", kernel, xw, col0, n_cols, out_stride, block, extras)
    rows = xw.shape[0]
    where = (f"{kernel}[({rows},)] with n_cols={n_cols}, BLOCK_SIZE={block}, "
             f"input_row_stride={xw.shape[1]}, output_row_stride={out_stride}")
    for r in results:
        if r["outside_writes"]:
            row, col = r["first_outside"]
            spot = (f"after the last row (row {row}, column {col})" if row >= rows else
                    f"in row {row}, column {col} (past n_cols)" if row >= 0 else "before the first row")
            fail(f"{where}: wrote {r['outside_writes']} value(s) outside the output rows, first {spot}; "
                 "mask the store (offsets < n_cols) and use output_row_stride")
        expect(not r["input_changed"], f"{where}: the kernel changed its input; it must only write to output_ptr")
    return [r["value"] for r in results], where


def _check_softmax(sub, kernel, xw, col0, n_cols, out_stride, block, what):
    (got,), where = _launch(sub, kernel, xw, col0, n_cols, out_stride, block, [[]])
    x = xw[:, col0:col0 + n_cols]
    small = x if x.size <= 12 else None
    assert_close(got, _softmax(x), atol=ATOL, rtol=RTOL, what=f"{where} ({what})",
                 inputs={"x": small} if small is not None else {"x": x.shape})


# =============================================================================================
# Part 1: softmax_kernel and softmax(x): one block per row
# =============================================================================================
@pytest.mark.part("softmax")
@pytest.mark.parametrize("n_rows,n_cols", [(7, 1), (13, 37), (9, 300)])
def test_softmax_kernel_random_rows(sub, n_rows, n_cols):
    xw = _rows(100 + n_cols, n_rows, n_cols)
    _check_softmax(sub, "softmax_kernel", xw, 0, n_cols, n_cols, _next_pow2(n_cols), "random rows, std 3")


@pytest.mark.part("softmax")
def test_softmax_kernel_all_negative_rows(sub):
    xw = _rows(201, 11, 45, "negative")
    _check_softmax(sub, "softmax_kernel", xw, 0, 45, 45, 64,
                   "every value near -1000: the padding lanes must not win the max (other=-inf), and "
                   "exp(x) underflows to 0 unless the row max is subtracted")


@pytest.mark.part("softmax")
def test_softmax_kernel_large_magnitudes(sub):
    xw = _rows(202, 9, 83, "large")
    _check_softmax(sub, "softmax_kernel", xw, 0, 83, 83, 128,
                   "values of size ~300: exp overflows unless the row max is subtracted")


@pytest.mark.part("softmax")
@pytest.mark.parametrize("n_rows,width,col0,n_cols,out_stride", [(13, 60, 3, 37, 41), (6, 311, 5, 300, 300)])
def test_softmax_kernel_column_slice(sub, n_rows, width, col0, n_cols, out_stride):
    xw = _rows(300 + n_cols, n_rows, width)
    _check_softmax(sub, "softmax_kernel", xw, col0, n_cols, out_stride, _next_pow2(n_cols),
                   f"x = x_wide[:, {col0}:{col0 + n_cols}] of a {width}-column tensor: rows start every "
                   "input_row_stride elements, not every n_cols")


def _check_wrapper_output(rep, x, fn):
    n_rows, n_cols = x.shape
    expect(rep["type"] == "torch.Tensor", f"{fn} must return a torch.Tensor, got {rep['type']}")
    expect(rep["shape"] == [n_rows, n_cols], f"{fn}: returned shape {tuple(rep['shape'])} for an input of shape {x.shape}")
    expect(rep["dtype"] == "float32", f"{fn}: returned dtype {rep['dtype']} for a float32 input")


@pytest.mark.part("softmax")
@pytest.mark.parametrize("n_rows,width,col0,n_cols", [(11, 50, 3, 37), (7, 1, 0, 1), (5, 300, 0, 300)])
def test_softmax_wrapper(sub, n_rows, width, col0, n_cols):
    xw = _rows(400 + n_cols, n_rows, width)
    x = xw[:, col0:col0 + n_cols]
    desc = f"softmax(x) for x of shape {x.shape} with x.stride(0) = {width}"
    rep = sub.probe("softmax_wrapper", xw, col0, n_cols)
    expect(len(rep["calls"]) >= 1, f"{desc}: softmax must launch softmax_kernel (it never did)")
    call = rep["calls"][-1]
    expect(call["grid"][0] == n_rows, f"{desc}: launched a grid of {call['grid']}; one program per row means ({n_rows},)")
    expect(not call["input_is_x"] or call["in_stride"] == width,
           f"{desc}: passed x with input_row_stride={call['in_stride']}; "
           "the row stride of x is x.stride(0), not the number of columns")
    _check_wrapper_output(rep, x, "softmax")
    expect(rep["device"] == rep["x_device"], f"{desc}: the result is on {rep['device']}, x on {rep['x_device']}")
    expect(not rep["input_changed"], f"{desc}: softmax changed its input x")
    assert_close(rep["value"], _softmax(x), atol=ATOL, rtol=RTOL, what=desc)


# =============================================================================================
# Part 2: softmax_online_kernel: rows longer than one block
# =============================================================================================
@pytest.mark.part("online_softmax")
@pytest.mark.parametrize("n_rows,n_cols,block", [(7, 45, 16), (5, 97, 32), (4, 10, 16), (3, 64, 16), (5, 1, 16)])
def test_online_random_rows(sub, n_rows, n_cols, block):
    xw = _rows(500 + n_cols, n_rows, n_cols)
    _check_softmax(sub, "softmax_online_kernel", xw, 0, n_cols, n_cols, block,
                   f"random rows in {-(-n_cols // block)} tile(s)")


@pytest.mark.part("online_softmax")
@pytest.mark.parametrize("n_rows,n_cols,block", [(6, 70, 16), (4, 33, 16)])
def test_online_late_maximum(sub, n_rows, n_cols, block):
    xw = _rows(600 + n_cols, n_rows, n_cols, "late")
    _check_softmax(sub, "softmax_online_kernel", xw, 0, n_cols, n_cols, block,
                   "rows whose maximum is in a later tile: the running sum must be rescaled by "
                   "exp(m_old - m_new) when the max grows")


@pytest.mark.part("online_softmax")
def test_online_all_negative_rows(sub):
    xw = _rows(701, 5, 53, "negative")
    _check_softmax(sub, "softmax_online_kernel", xw, 0, 53, 53, 16,
                   "every value near -1000, last tile partly masked: padding must be -inf, and the "
                   "running max must be subtracted")


@pytest.mark.part("online_softmax")
def test_online_large_magnitudes(sub):
    xw = _rows(702, 5, 61, "large")
    _check_softmax(sub, "softmax_online_kernel", xw, 0, 61, 61, 16, "values of size ~300")


@pytest.mark.part("online_softmax")
def test_online_column_slice(sub):
    xw = _rows(703, 5, 57)
    _check_softmax(sub, "softmax_online_kernel", xw, 3, 50, 53, 32,
                   "x = x_wide[:, 3:53] of a 57-column tensor: use input_row_stride / output_row_stride")


# =============================================================================================
# Part 3: softmax_dropout_kernel and softmax_dropout(x, p, seed)
# =============================================================================================
def _dropout_parts(got, s, p, where):
    """The mask of a dropout(softmax) output; kept values must be s / (1 - p)."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != s.shape:
        fail(f"{where}: output shape {got.shape}, expected {s.shape}")
    if not np.isfinite(got).all():
        fail(f"{where}: {int((~np.isfinite(got)).sum())} non-finite value(s) in the output")
    kept = got != 0.0
    assert_close(np.where(kept, got, 0.0), np.where(kept, s / (1.0 - p), 0.0), atol=ATOL, rtol=RTOL,
                 what=f"{where}: kept values (they must equal softmax / (1 - p) with p={p})")
    return kept


def _rate(kept, p, where):
    rate = 1.0 - kept.mean()
    expect(abs(rate - p) <= RATE_TOL,
           f"{where}: dropped {rate:.3f} of {kept.size} values with p={p}; "
           "an element is dropped with probability p (kept when rand >= p)")


@pytest.mark.part("softmax_dropout")
def test_dropout_kernel_p0_is_softmax(sub):
    xw = _rows(801, 9, 44, "mixed")
    (got,), where = _launch(sub, "softmax_dropout_kernel", xw, 3, 37, 40, 64, [[0.0, 5]])
    assert_close(got, _softmax(xw[:, 3:40]), atol=ATOL, rtol=RTOL,
                 what=f"{where} with p=0 (nothing dropped: plain softmax; rows near -1000 and of size ~300, "
                      "x = x_wide[:, 3:40])", inputs={"x": (9, 37)})


@pytest.mark.part("softmax_dropout")
def test_dropout_kernel_scaling_and_rate(sub):
    xw = _rows(802, 13, 171)
    s = _softmax(xw)
    (got,), where = _launch(sub, "softmax_dropout_kernel", xw, 0, 171, 171, 256, [[0.3, 2024]])
    kept = _dropout_parts(got, s, 0.3, f"{where}, p=0.3, seed=2024")
    _rate(kept, 0.3, f"{where}, p=0.3, seed=2024")


@functools.lru_cache(maxsize=None)
def _seed_runs(sub):
    xw = _rows(803, 7, 64)
    (a, b, c), where = _launch(sub, "softmax_dropout_kernel", xw, 0, 64, 64, 64, [[0.5, 11], [0.5, 11], [0.5, 12]])
    s = _softmax(xw)
    return [_dropout_parts(y, s, 0.5, f"{where}, p=0.5, seed={seed}") for y, seed in ((a, 11), (b, 11), (c, 12))], where


@pytest.mark.part("softmax_dropout")
def test_dropout_kernel_same_seed_same_mask(sub):
    (m1, m2, m3), where = _seed_runs(sub)
    differ = int((m1 != m2).sum())
    expect(differ == 0, f"{where}: two launches with seed=11 dropped different elements ({differ} of {m1.size}); "
                        "the mask must depend only on (seed, row, column): tl.rand(seed, row * n_cols + col)")
    changed = (m1 != m3).mean()
    expect(changed >= MIN_CHANGED, f"{where}: seeds 11 and 12 gave masks that differ in only {changed:.1%} "
                                   "of the elements; the mask must come from tl.rand(seed, ...)")


@pytest.mark.part("softmax_dropout")
def test_dropout_kernel_rows_get_their_own_masks(sub):
    (m1, _, _), where = _seed_runs(sub)
    distinct = len({row.tobytes() for row in m1})
    expect(distinct == m1.shape[0], f"{where}: only {distinct} different mask rows among {m1.shape[0]} rows; "
                                    "every element needs its own random offset (row * n_cols + col)")
    mixed = np.mean([0 < row.sum() < row.size for row in m1])
    expect(mixed == 1.0, f"{where}: some rows are dropped or kept as a whole; draw one random number per element")


@pytest.mark.part("softmax_dropout")
def test_dropout_wrapper(sub):
    xw = _rows(804, 11, 50)
    x = xw[:, 3:40]
    s = _softmax(x)
    runs = [[0.3, 5], [0.3, 5], [0.3, 6], [0.0, 5]]
    desc = f"softmax_dropout(x, p, seed) for x of shape {x.shape} with x.stride(0) = 50 (reference kernel)"
    rep = sub.probe("dropout_wrapper", xw, 3, 37, runs)
    expect(len(rep["calls"]) >= len(runs), f"{desc}: softmax_dropout must launch softmax_dropout_kernel "
                                           f"(launched {len(rep['calls'])} time(s) in {len(runs)} calls)")
    for call in rep["calls"]:
        expect(call["grid"][0] == 11, f"{desc}: launched a grid of {call['grid']}; one program per row means (11,)")
        expect(not call["input_is_x"] or call["in_stride"] == 50,
               f"{desc}: passed x with input_row_stride={call['in_stride']}; use x.stride(0)")
    outs = rep["outputs"]
    for out, (p, seed) in zip(outs, runs):
        _check_wrapper_output(out, x, "softmax_dropout")
    expect(not rep["input_changed"], f"{desc}: softmax_dropout changed its input x")
    assert_close(outs[3]["value"], s, atol=ATOL, rtol=RTOL, what=f"{desc} with p=0")
    masks = [_dropout_parts(o["value"], s, p, f"{desc}, p={p}, seed={seed}") for o, (p, seed) in zip(outs[:3], runs)]
    expect(np.array_equal(masks[0], masks[1]),
           f"{desc}: two calls with seed=5 gave different masks; pass the caller's seed to the kernel "
           "(never draw a new one)")
    expect(not np.array_equal(masks[0], masks[2]), f"{desc}: seeds 5 and 6 gave the same mask")
    _rate(masks[0], 0.3, f"{desc}, p=0.3")
