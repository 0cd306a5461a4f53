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

import weakref

import numpy as np
import pytest
import torch

from course.judge import SandboxError
from course.judge.check import Failure, assert_close, expect, fail
from course.judge.described import expect_described, unchanged

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
# test the mask comes from the stand-in kernel (a seeded torch generator) and is compared exactly.
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


def _stand_in(x) -> np.ndarray:
    """What the wrapper tests' stand-in kernel writes (probes._StandInKernel): 0.5 tanh(x) + 0.5."""
    return 0.5 * np.tanh(np.asarray(x, dtype=np.float64)) + 0.5


def _rows(seed, n_rows: int, width: int, kind: str = "normal") -> np.ndarray:
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


# Every kernel launch of the suite, per kernel: case -> (input seed, n_rows, width, kind, col0, n_cols,
# output row stride, BLOCK_SIZE, [extra arguments per launch]). x = xw[:, col0:col0+n_cols] is a
# column slice whenever width > n_cols. All cases of one kernel go to the sandbox in ONE probe call
# (see probes.launch_many): a kernel that crashes the sandbox costs one restart for its part only.
SENTINEL = -7.25          # what the probes' output guard holds (probes.SENTINEL): no softmax output is < 0
CASES = {
    "softmax_kernel": {
        "random_1": (101, 7, 1, "normal", 0, 1, 1, 1, [[]]),
        "random_37": (137, 13, 37, "normal", 0, 37, 37, 64, [[]]),
        "random_300": (400, 9, 300, "normal", 0, 300, 300, 512, [[]]),
        "negative": (201, 11, 45, "negative", 0, 45, 45, 64, [[]]),
        "large": (202, 9, 83, "large", 0, 83, 83, 128, [[]]),
        "slice_37": (337, 13, 60, "normal", 3, 37, 41, 64, [[]]),
        "slice_300": (600, 6, 311, "normal", 5, 300, 300, 512, [[]]),
    },
    "softmax_online_kernel": {
        "random_45": (545, 7, 45, "normal", 0, 45, 45, 16, [[]]),
        "random_97": (597, 5, 97, "normal", 0, 97, 97, 32, [[]]),
        "random_10": (510, 4, 10, "normal", 0, 10, 10, 16, [[]]),
        "random_64": (564, 3, 64, "normal", 0, 64, 64, 16, [[]]),
        "random_1": (501, 5, 1, "normal", 0, 1, 1, 16, [[]]),
        "late_70": (670, 6, 70, "late", 0, 70, 70, 16, [[]]),
        "late_33": (633, 4, 33, "late", 0, 33, 33, 16, [[]]),
        "negative": (701, 5, 53, "negative", 0, 53, 53, 16, [[]]),
        "large": (702, 5, 61, "large", 0, 61, 61, 16, [[]]),
        "slice": (703, 5, 57, "normal", 3, 50, 53, 32, [[]]),
    },
    "softmax_dropout_kernel": {
        "p0": (801, 9, 44, "mixed", 3, 37, 40, 64, [[0.0, 5]]),
        "rate": (802, 13, 171, "normal", 0, 171, 171, 256, [[0.3, 2024]]),
        "seeds": (803, 7, 64, "normal", 0, 64, 64, 64, [[0.5, 11], [0.5, 11], [0.5, 12]]),
        # the same (n_rows, n_cols, p, seed) once as a slice of a wider tensor, once dense: the mask is
        # tl.rand(seed, row * n_cols + col), so it must not depend on the strides
        "layout_strided": (804, 9, 50, "normal", 3, 37, 41, 64, [[0.4, 7]]),
        "layout_dense": (805, 9, 37, "normal", 0, 37, 37, 64, [[0.4, 7]]),
    },
}
# One probe call runs every case of a kernel: ~0.5-2 s in the interpreter on an idle core; the
# slack covers a loaded grading machine (a hanging kernel costs this once per part).
BATCH_TIMEOUT = 45

_batches = weakref.WeakKeyDictionary()             # sub -> {kernel: results or the Failure raised}


def _pad(block: int) -> int:
    """The guard around the probes' buffers (probes._pad): BLOCK_SIZE - 1 elements past a row's end
    is the farthest a kernel without masks reaches."""
    return 2 * int(block) + 64


def _guarded_input(xw: np.ndarray, block: int) -> np.ndarray:
    """The input buffer as the probe lays it out (probes._input): NaN guard, xw's rows, NaN guard."""
    pad = _pad(block)
    buf = np.full(pad + xw.size + pad, np.nan, dtype=np.float32)
    buf[pad:pad + xw.size] = xw.reshape(-1)
    return buf


def _buffer(facts, what: str) -> np.ndarray:
    """A guarded buffer as the probe's describe() read it after the launch (its bytes, compared here)."""
    value = facts.get("value") if isinstance(facts, dict) else None
    if facts.get("type") != "torch.Tensor" or not isinstance(value, np.ndarray) or value.ndim != 1:
        fail(f"{what}: the probe could not read back its buffer ({facts.get('type')})")
    return value


def _read_run(run, xw, n_rows, n_cols, out_stride, block, where):
    """One launch's output rows (float64), the number of values written outside them and where the
    first one is, and whether the input buffer changed: all from the buffers' bytes, decided here."""
    pad = _pad(block)
    flat = _buffer(run["out_buf"], where)
    expect(flat.size == pad + n_rows * out_stride + pad, f"{where}: the output buffer changed size")
    inside = np.zeros(flat.size, dtype=bool)
    for r in range(n_rows):
        inside[pad + r * out_stride: pad + r * out_stride + n_cols] = True
    outside = np.flatnonzero(~inside & (flat != np.float32(SENTINEL)))     # NaN counts as written
    first = None
    if outside.size:
        offset = int(outside[0]) - pad             # relative to the first output row
        first = [offset // out_stride, offset % out_stride] if offset >= 0 else [-1, offset]
    value = flat[pad:pad + n_rows * out_stride].reshape(n_rows, out_stride)[:, :n_cols].astype(np.float64)
    changed = not unchanged(run["in_buf"], _guarded_input(xw, block))
    return {"value": value, "outside_writes": int(outside.size), "first_outside": first, "input_changed": changed}


def _inputs(sub, kernel, case):
    seed, n_rows, width, kind = CASES[kernel][case][:4]
    return _rows([sub.seed, seed], n_rows, width, kind)   # per submission: an answer table is for other inputs


def _batch(sub, kernel):
    cache = _batches.setdefault(sub, {})
    if kernel not in cache:
        cases = [[_inputs(sub, kernel, name), *spec[4:]] for name, spec in CASES[kernel].items()]
        try:
            replies = sub.probe("launch_many", kernel, cases, timeout=BATCH_TIMEOUT)
            cache[kernel] = dict(zip(CASES[kernel], replies))
        except SandboxError as exc:                # crash or timeout: every case of the part fails
            cache[kernel] = Failure(
                f"{kernel}: {exc} while running this part's test cases. In the Triton interpreter a crash "
                "usually means a load or store far outside the tensors: check the pointer arithmetic "
                "(row * row_stride + offsets) and the masks")
        except Failure as exc:                     # the student's code raised outside the kernel launches
            cache[kernel] = exc
    if isinstance(cache[kernel], Failure):
        raise Failure(str(cache[kernel]))
    return cache[kernel]


def _launch(sub, kernel, case):
    """The student's kernel on case `case` of CASES; fails on an error, stray writes or a changed input.
    Returns (outputs, one per launch, as float64 arrays; x; a description of the launch)."""
    _, n_rows, width, _, col0, n_cols, out_stride, block, extras = CASES[kernel][case]
    xw = _inputs(sub, kernel, case)
    where = (f"{kernel}[({n_rows},)] with n_cols={n_cols}, BLOCK_SIZE={block}, "
             f"input_row_stride={width}, output_row_stride={out_stride}")
    reply = _batch(sub, kernel)[case]
    if "error" in reply:
        fail(f"{where}: your code raised {reply['error']}")
    runs = [_read_run(r, xw, n_rows, n_cols, out_stride, block, where) for r in reply["runs"]]
    for r in runs:
        if r["outside_writes"]:
            row, col = r["first_outside"]
            spot = (f"after the last row (row {row}, column {col})" if row >= n_rows else
                    f"in row {row}, column {col} (past n_cols)" if row >= 0 else "before the first row")
            fail(f"{where}: wrote {r['outside_writes']} value(s) outside the output rows, first {spot}; "
                 "mask the store (offsets < n_cols) and use output_row_stride")
        expect(not r["input_changed"], f"{where}: the kernel changed its input; it must only write to output_ptr")
    return [r["value"] for r in runs], xw[:, col0:col0 + n_cols], where


def _check_softmax(sub, kernel, case, what):
    (got,), x, where = _launch(sub, kernel, case)
    small = x if x.size <= 12 else None
    assert_close(got, _softmax(x), atol=ATOL, rtol=RTOL, what=f"{where} ({what})",
                 inputs={"x": small} if small is not None else {"x": x.shape})


# =============================================================================================
# Part 1: softmax_kernel and softmax(x): one block per row
# =============================================================================================
# One check per kernel: every case must pass (a softmax kernel that fails on large values or on a
# column slice is a wrong kernel); the wrapper is the part's other check.
def _slice_what(kernel, case):
    _, _, width, _, col0, n_cols, _, _, _ = CASES[kernel][case]
    return (f"x = x_wide[:, {col0}:{col0 + n_cols}] of a {width}-column tensor: rows start every "
            "input_row_stride elements, not every n_cols")


SOFTMAX_KERNEL_WHAT = {
    "random_1": "random rows, std 3", "random_37": "random rows, std 3", "random_300": "random rows, std 3",
    "negative": ("every value near -1000: the padding lanes must not win the max (other=-inf), and "
                 "exp(x) underflows to 0 unless the row max is subtracted"),
    "large": "values of size ~300: exp overflows unless the row max is subtracted",
    "slice_37": _slice_what("softmax_kernel", "slice_37"), "slice_300": _slice_what("softmax_kernel", "slice_300"),
}


@pytest.mark.part("softmax")
@pytest.mark.parametrize("case", list(SOFTMAX_KERNEL_WHAT))
def test_softmax_kernel(sub, case):
    """softmax_kernel: 모든 입력에서 행 softmax (mask, -inf 채움, 최댓값 빼기, row stride)"""
    _check_softmax(sub, "softmax_kernel", case, SOFTMAX_KERNEL_WHAT[case])


def _check_wrapper_output(rep, x, fn):
    """What describe() recorded of the wrapper's result: a plain float32 tensor of x's shape."""
    expect(rep["type"] == "torch.Tensor", f"{fn} must return a torch.Tensor, got {rep['type']}")
    expect_described(rep, what=fn, type="torch.Tensor", shape=x.shape, dtype="float32")
    return np.asarray(rep["value"], dtype=np.float64)


def _check_call(call, desc, n_rows, width):
    """One launch of the stand-in kernel: one program per row, a power-of-2 BLOCK_SIZE holding the row,
    and x.stride(0) as the row stride whenever the tensor passed is x's own memory (a contiguous copy
    of x has its own). Decided here from what the stand-in recorded with describe()."""
    expect(call["grid"][:1] == [n_rows], f"{desc}: launched a grid of {call['grid']}; one program per row means ({n_rows},)")
    block, n_cols = call["block"], call["n_cols"]
    size = block.get("value") if block.get("type") == "builtins.int" else None
    expect(size is not None and size >= 1 and not size & (size - 1) and size >= n_cols,
           f"{desc}: BLOCK_SIZE={size if size is not None else block.get('type')} for n_cols={n_cols}: one block "
           "must hold the whole row, so BLOCK_SIZE must be a power of 2 >= n_cols (tl.arange needs a power of 2)")
    expect("x" not in call["input_aliases_x"] or call["in_stride"] == width,
           f"{desc}: passed x with input_row_stride={call['in_stride']}; "
           "the row stride of x is x.stride(0), not the number of columns")


def _x_unchanged(rep, xw):
    return unchanged(rep["in_buf"], _guarded_input(xw, 64))


@pytest.mark.part("softmax")
@pytest.mark.parametrize("n_rows,width,col0,n_cols", [(11, 50, 3, 37), (7, 1, 0, 1), (5, 300, 0, 300)])
def test_softmax_wrapper(sub, n_rows, width, col0, n_cols):
    """softmax(x): 행마다 프로그램 하나, x.stride(0), 2의 거듭제곱 BLOCK_SIZE, 새 출력"""
    xw = _rows([sub.seed, 400 + n_cols], n_rows, width)
    x = xw[:, col0:col0 + n_cols]
    desc = f"softmax(x) for x of shape {x.shape} with x.stride(0) = {width}"
    rep = sub.probe("softmax_wrapper", xw, col0, n_cols)
    expect(len(rep["calls"]) >= 1, f"{desc}: softmax must launch softmax_kernel (it never did)")
    _check_call(rep["calls"][-1], desc, n_rows, width)
    out = rep["out"]
    value = _check_wrapper_output(out, x, "softmax")
    expect(out["device"] == rep["x"]["device"], f"{desc}: the result is on {out['device']}, x on {rep['x']['device']}")
    expect(_x_unchanged(rep, xw), f"{desc}: softmax changed its input x")
    expect(not out["aliases"], f"{desc}: softmax returned x's own memory; allocate the output (torch.empty_like)")
    assert_close(value, _stand_in(x), atol=ATOL, rtol=RTOL,
                 what=desc + " (with the judge's stand-in kernel, 0.5 tanh(x) + 0.5, in place of softmax_kernel)")


# =============================================================================================
# Part 2: softmax_online_kernel: rows longer than one block
# =============================================================================================
def _tiles(case):
    n_cols, block = CASES["softmax_online_kernel"][case][5], CASES["softmax_online_kernel"][case][7]
    return f"random rows in {-(-n_cols // block)} tile(s)"


ONLINE_WHAT = {
    **{case: _tiles(case) for case in ("random_45", "random_97", "random_10", "random_64", "random_1")},
    **{case: ("rows whose maximum is in a later tile: the running sum must be rescaled by "
              "exp(m_old - m_new) when the max grows") for case in ("late_70", "late_33")},
    "negative": ("every value near -1000, last tile partly masked: padding must be -inf, and the "
                 "running max must be subtracted"),
    "large": "values of size ~300",
    "slice": "x = x_wide[:, 3:53] of a 57-column tensor: use input_row_stride / output_row_stride",
}


@pytest.mark.part("online_softmax")
@pytest.mark.parametrize("case", list(ONLINE_WHAT))
def test_online_kernel(sub, case):
    """softmax_online_kernel: 여러 tile에 걸친 행의 online max / sum"""
    _check_softmax(sub, "softmax_online_kernel", case, ONLINE_WHAT[case])


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


def _dropout_p0_is_softmax(sub):
    (got,), x, where = _launch(sub, "softmax_dropout_kernel", "p0")
    assert_close(got, _softmax(x), atol=ATOL, rtol=RTOL,
                 what=f"{where} with p=0 (nothing dropped: plain softmax; rows near -1000 and of size ~300, "
                      "x = x_wide[:, 3:40])", inputs={"x": (9, 37)})


def _dropout_scaling_and_rate(sub):
    (got,), x, where = _launch(sub, "softmax_dropout_kernel", "rate")
    kept = _dropout_parts(got, _softmax(x), 0.3, f"{where}, p=0.3, seed=2024")
    _rate(kept, 0.3, f"{where}, p=0.3, seed=2024")


def _seed_runs(sub):
    (a, b, c), x, where = _launch(sub, "softmax_dropout_kernel", "seeds")
    s = _softmax(x)
    return [_dropout_parts(y, s, 0.5, f"{where}, p=0.5, seed={seed}") for y, seed in ((a, 11), (b, 11), (c, 12))], where


def _dropout_same_seed_same_mask(sub):
    (m1, m2, m3), where = _seed_runs(sub)
    differ = int((m1 != m2).sum())
    expect(differ == 0, f"{where}: two launches with seed=11 dropped different elements ({differ} of {m1.size}); "
                        "the mask must depend only on (seed, row, column): tl.rand(seed, row * n_cols + col)")
    changed = (m1 != m3).mean()
    expect(changed >= MIN_CHANGED, f"{where}: seeds 11 and 12 gave masks that differ in only {changed:.1%} "
                                   "of the elements; the mask must come from tl.rand(seed, ...)")


def _dropout_rows_get_their_own_masks(sub):
    (m1, _, _), where = _seed_runs(sub)
    distinct = len({row.tobytes() for row in m1})
    expect(distinct == m1.shape[0], f"{where}: only {distinct} different mask rows among {m1.shape[0]} rows; "
                                    "every element needs its own random offset (row * n_cols + col)")
    mixed = np.mean([0 < row.sum() < row.size for row in m1])
    expect(mixed == 1.0, f"{where}: some rows are dropped or kept as a whole; draw one random number per element")


def _dropout_mask_ignores_strides(sub):
    (a,), xa, where_a = _launch(sub, "softmax_dropout_kernel", "layout_strided")
    (b,), xb, _ = _launch(sub, "softmax_dropout_kernel", "layout_dense")
    ma = _dropout_parts(a, _softmax(xa), 0.4, f"{where_a}, p=0.4, seed=7")
    mb = _dropout_parts(b, _softmax(xb), 0.4, "the same launch on a dense (9, 37) x, p=0.4, seed=7")
    differ = int((ma != mb).sum())
    expect(differ == 0, f"{where_a}: the mask differs in {differ} of {ma.size} elements from the mask of a dense "
                        "(9, 37) x with the same seed; the random offset is the element's index "
                        "row * n_cols + col, not its memory offset (row * input_row_stride + col)")


# One check for the kernel (all its properties must hold), one for the wrapper.
DROPOUT_KERNEL_PROPERTIES = {"p0_is_softmax": _dropout_p0_is_softmax, "scaling_and_rate": _dropout_scaling_and_rate,
                             "same_seed_same_mask": _dropout_same_seed_same_mask,
                             "rows_get_their_own_masks": _dropout_rows_get_their_own_masks,
                             "mask_ignores_strides": _dropout_mask_ignores_strides}


@pytest.mark.part("softmax_dropout")
@pytest.mark.parametrize("prop", list(DROPOUT_KERNEL_PROPERTIES))
def test_dropout_kernel(sub, prop):
    """softmax_dropout_kernel: 1/(1-p) 스케일, seed로 정해지는 원소별 mask"""
    DROPOUT_KERNEL_PROPERTIES[prop](sub)


@pytest.mark.part("softmax_dropout")
def test_dropout_wrapper(sub):
    """softmax_dropout(x, p, seed): 받은 p와 seed를 그대로 커널에 전달"""
    xw = _rows([sub.seed, 804], 11, 50)
    x = xw[:, 3:40]
    s = _stand_in(x)
    runs = [[0.3, 5], [0.3, 5], [0.3, 6], [0.0, 5]]
    desc = (f"softmax_dropout(x, p, seed) for x of shape {x.shape} with x.stride(0) = 50 (the judge's stand-in "
            "kernel, 0.5 tanh(x) + 0.5 with a seeded mask, in place of softmax_dropout_kernel)")
    rep = sub.probe("dropout_wrapper", xw, 3, 37, runs)
    expect(len(rep["calls"]) >= len(runs), f"{desc}: softmax_dropout must launch softmax_dropout_kernel "
                                           f"(launched {len(rep['calls'])} time(s) in {len(runs)} calls)")
    for call in rep["calls"]:
        _check_call(call, desc, 11, 50)
    outs = [_check_wrapper_output(out, x, "softmax_dropout") for out in rep["outputs"]]
    expect(len(outs) == len(runs), f"{desc}: {len(outs)} results for {len(runs)} calls")
    expect(_x_unchanged(rep, xw), f"{desc}: softmax_dropout changed its input x")
    assert_close(outs[3], s, atol=ATOL, rtol=RTOL, what=f"{desc} with p=0")
    masks = [_dropout_parts(o, s, p, f"{desc}, p={p}, seed={seed}") for o, (p, seed) in zip(outs[:3], runs)]
    expect(np.array_equal(masks[0], masks[1]),
           f"{desc}: two calls with seed=5 gave different masks; pass the caller's seed to the kernel "
           "(never draw a new one)")
    expect(not np.array_equal(masks[0], masks[2]), f"{desc}: seeds 5 and 6 gave the same mask")
    # the stand-in's mask: a torch generator seeded with the seed the wrapper passed
    for mask, (p, seed) in zip(masks, runs[:3]):
        u = torch.rand(mask.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()
        expect(np.array_equal(mask, u >= p), f"{desc}, p={p}, seed={seed}: the mask is not the one the stand-in kernel "
                                            "draws for this seed and p; pass the caller's p and seed to the kernel unchanged")
