"""Hidden suite of 07_attention.

Parts: attention (4), multihead (3), positional_encoding (2), causal_mask (1).

Every input is a seeded NumPy array with odd sizes (n_q=5, n_k=7, d_k=3, ...); the probe builds
torch tensors from it in the dtype and memory layout named here (contiguous, a transposed view,
every other row of a taller tensor whose gaps hold NaN, a stride-0 expand along the batch axis,
or axes 1 and 2 swapped like the output of split_heads). float32 inputs are drawn in float64 and
rounded to float32 here, so the float64 reference below sees exactly the values the student got.

Expected values come from the float64 references in this file (torch float64, so the same code
also gives the expected gradients by autograd). The convention for fully masked rows is the
notebook's: zero weights and a zero output row. During development the attention reference was
cross-checked against torch.nn.functional.scaled_dot_product_attention (torch 2.13 returns zeros
for fully masked rows too) and the multi-head reference against torch.nn.MultiheadAttention.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# --------------------------------------------------------------------------- tolerances
# float64: student and reference both compute in float64 from the same inputs and differ only in
# the order of operations (scale before/after the matmul, torch.softmax or exp/sum by hand); for
# the O(1)..O(1e3) values here that is ~1e-13 at most. 1e-9 leaves four orders of margin and is
# far below any real mistake (O(1e-2) and up).
F64 = dict(atol=1e-9, rtol=1e-9)
# float32, O(1) scores: measured max error of several correct float32 implementations (by hand,
# torch.softmax, F.scaled_dot_product_attention, multi-head with projections) against float64 is
# 5e-7; 1e-5 gives 20x margin and still catches every mistake listed in the mutants.
F32 = dict(atol=1e-5, rtol=1e-5)
# float32 with scores of +-150: the dot products (~260 before scaling) are rounded to float32
# (ulp ~3e-5), so the scores carry errors of ~1e-5 that move weights and outputs by about as much:
# measured 7.5e-6 at most (by hand and with torch.softmax). 1e-4 gives >10x margin; the mistake
# this test is for (no max shift) gives inf / NaN, not a small error.
F32_LARGE = dict(atol=1e-4, rtol=1e-4)


def tolerance(dtype, large=False):
    if dtype == "float64":
        return F64
    return F32_LARGE if large else F32


# --------------------------------------------------------------------------- inputs
def rng_for(seed, case):
    """Inputs drawn from the submission's seed (sub.seed) and the case: the same notebook always
    gets the same inputs, another notebook other ones (an answer table is useless)."""
    return np.random.default_rng([seed, case])


def as_dtype(a, dtype):
    """float32 inputs are rounded here, so the float64 reference sees the student's exact values."""
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


def randn(rng, shape, dtype="float64"):
    return as_dtype(rng.standard_normal(shape), dtype)


def spec(value, dtype="float64", layout="contiguous", batch=None):
    s = {"value": np.asarray(value), "dtype": dtype, "layout": layout}
    if value is not None and np.asarray(value).dtype == np.bool_:
        s["dtype"] = "bool"
    if batch is not None:
        s["batch"] = batch
    return s


def value_of(s):
    """The values the student sees for a spec (an expand adds the batch axis)."""
    value = np.asarray(s["value"])
    if s["layout"] == "expanded":
        return np.broadcast_to(value, (s["batch"],) + value.shape)
    return value


LAYOUT_WORDS = {"contiguous": "", "transposed": ", a transposed view (non-contiguous)",
                "strided": ", every other row of a larger tensor (non-contiguous)",
                "expanded": ", expanded along the batch axis (stride 0)",
                "heads": ", a view with axes 1 and 2 swapped (non-contiguous, like split_heads' output)"}


def describe(s):
    """'float32 (2, 5, 3), a transposed view (non-contiguous)': what the student's function received."""
    return f"{s['dtype']} {value_of(s).shape}{LAYOUT_WORDS[s['layout']]}"


def joined(inputs):
    return "; ".join(f"{name}: {text}" for name, text in inputs.items())


def random_mask(rng, shape, keep=0.6, every_row=True):
    """Bool mask; every_row makes sure each query keeps at least one key."""
    mask = rng.random(shape) < keep
    if every_row:
        rows = ~mask.any(axis=-1)
        idx = rng.integers(0, shape[-1], size=rows.sum())
        mask[rows, idx] = True
    return mask


def big_scores(rng, lead, n_q, n_k, d, level, dtype):
    """q, k whose scaled scores are sign_i * level + O(1): every row is huge, some positive, some
    negative, some near 0, while the differences inside a row stay O(1) (non-trivial weights)."""
    q = rng.standard_normal(lead + (n_q, d))
    k = rng.standard_normal(lead + (n_k, d))
    signs = np.resize([1.0, -1.0, 0.0, -1.0, 1.0], n_q)
    q[..., 0] = signs * level * math.sqrt(d)
    k[..., 0] = 1.0
    return as_dtype(q, dtype), as_dtype(k, dtype)


# --------------------------------------------------------------------------- float64 references
def t64(a):
    return torch.tensor(np.array(a), dtype=torch.float64)


def ref_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v with zero weights and output for fully masked rows."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    alive = torch.isfinite(scores).any(dim=-1, keepdim=True)
    scores = torch.where(alive, scores, torch.zeros_like(scores))
    weights = torch.softmax(scores, dim=-1) * alive
    return weights @ v, weights


def ref_stand_in(q, k, v, mask=None):
    """What probes.py swaps in for scaled_dot_product_attention while multihead is graded: NOT
    attention (tanh of the scaled scores, blocked keys 0), so calling it scores nothing."""
    weights = torch.tanh(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ v, weights


def ref_split(x, h):
    B, T, D = x.shape
    return x.reshape(B, T, h, D // h).transpose(0, 2, 1, 3)


def ref_merge(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def ref_mha(x_q, x_kv, w_q, w_k, w_v, w_o, h, mask=None, attention=ref_attention):
    def split(t):
        B, T, D = t.shape
        return t.reshape(B, T, h, D // h).transpose(1, 2)

    q, k, v = split(x_q @ w_q), split(x_kv @ w_k), split(x_kv @ w_v)
    out, weights = attention(q, k, v, mask)
    B, H, T, d = out.shape
    return out.transpose(1, 2).reshape(B, T, H * d) @ w_o, weights


def ref_pe(n_pos, d_model, offset=0):
    pos = np.arange(offset, offset + n_pos, dtype=np.float64)[:, None]
    col = np.arange(d_model)[None, :]
    angle = pos / np.power(10000.0, (2 * (col // 2)) / d_model)
    return np.where(col % 2 == 0, np.sin(angle), np.cos(angle))


def ref_causal(n_q, n_k):
    i = np.arange(n_q)[:, None]
    j = np.arange(n_k)[None, :]
    return j <= (n_k - n_q) + i


# --------------------------------------------------------------------------- checks
def untouched(report, sent) -> bool:
    """Whether the inputs still hold what the judge sent, decided here from what the probe read
    back after the call (in the sandbox torch.equal or clone may be patched)."""
    after = report.get("inputs_after") or []
    return len(after) == len(sent) and all(unchanged(a, value_of(s)) for a, s in zip(after, sent))


def probe(sub, name, *args, what, **kwargs):
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def readable_tensor(info, what):
    """The reported values of a result that must be a torch.Tensor."""
    if info["kind"] != "torch":
        hint = " (a NumPy array: keep the result a torch tensor)" if info["kind"].startswith("numpy") else ""
        fail(f"{what} must be a torch.Tensor, got {info['kind']}{hint}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    return np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])


def check_value(info, expected, what, tol, inputs, nan_hint=None):
    got = readable_tensor(info, what)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}; {joined(inputs)}")
    if nan_hint and not np.isfinite(got).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        fail(f"{what}: {int((~np.isfinite(got)).sum())} NaN/inf value(s), first at index {index}; {nan_hint}. "
             + joined(inputs))
    assert_close(got, expected, what=what, inputs=inputs, **tol)


def check_pair(report, expected, what, tol, inputs, nan_hint=None):
    if report["error"]:
        fail(f"{what}: {report['error']}")
    out, weights = expected
    # the weights first: a wrong weight explains a wrong output
    check_value(report["weights"], weights, f"{what}: weights", tol, inputs, nan_hint)
    check_value(report["out"], out, f"{what}: out", tol, inputs, nan_hint)


# =========================================================================== attention (4)
def attention_expected(q, k, v, mask=None):
    tm = None if mask is None else torch.tensor(value_of(mask))
    out, w = ref_attention(t64(value_of(q)), t64(value_of(k)), t64(value_of(v)), tm)
    return out.numpy(), w.numpy()


def attention_inputs(q, k, v, mask=None):
    shown = {"q": describe(q), "k": describe(k), "v": describe(v)}
    if mask is not None:
        shown["mask"] = describe(mask)
    return shown


def run_attention(sub, case, q, k, v, mask=None, large=False, nan_hint=None, first=None):
    """Probe once, run `first(report, expected, what)` if given, then compare weights and out."""
    dtype = q["dtype"]
    what = f"scaled_dot_product_attention [{case}]"
    report = probe(sub, "attention", q, k, v, mask, what=what)
    expected = attention_expected(q, k, v, mask)
    if first is not None and not report["error"]:
        first(report, expected, what)
    check_pair(report, expected, what, tolerance(dtype, large), attention_inputs(q, k, v, mask), nan_hint)
    return report


def _values_cases(seed=0):
    cases = {}
    rng = rng_for(seed, 701)
    cases["2d_no_mask"] = (spec(randn(rng, (5, 3))), spec(randn(rng, (7, 3))), spec(randn(rng, (7, 4))), None)
    rng = rng_for(seed, 702)
    cases["3d_mask"] = (spec(randn(rng, (2, 5, 3))), spec(randn(rng, (2, 7, 3))), spec(randn(rng, (2, 7, 4))),
                        spec(random_mask(rng, (2, 5, 7))))
    rng = rng_for(seed, 703)
    cases["4d_float32_broadcast_mask"] = (
        spec(randn(rng, (2, 3, 5, 3), "float32"), "float32"), spec(randn(rng, (2, 3, 7, 3), "float32"), "float32"),
        spec(randn(rng, (2, 3, 7, 2), "float32"), "float32"), spec(random_mask(rng, (5, 7))))
    rng = rng_for(seed, 704)
    lengths = np.array([9, 6])
    padding = (np.arange(9)[None, :] < lengths[:, None])[:, None, None, :]        # (B, 1, 1, n_k)
    cases["4d_padding_mask"] = (spec(randn(rng, (2, 2, 4, 5))), spec(randn(rng, (2, 2, 9, 5))),
                                spec(randn(rng, (2, 2, 9, 3))), spec(padding))
    rng = rng_for(seed, 705)
    cases["square_causal_mask"] = (spec(randn(rng, (3, 6, 4))), spec(randn(rng, (3, 6, 4))),
                                   spec(randn(rng, (3, 6, 5))), spec(ref_causal(6, 6)))
    rng = rng_for(seed, 706)
    square = random_mask(rng, (6, 6), keep=0.5)
    square[0, 5], square[5, 0] = True, False          # asymmetric whatever the draw
    cases["square_asymmetric_mask_float32"] = (
        spec(randn(rng, (2, 6, 3), "float32"), "float32"), spec(randn(rng, (2, 6, 3), "float32"), "float32"),
        spec(randn(rng, (2, 6, 3), "float32"), "float32"), spec(square))
    rng = rng_for(seed, 707)
    cases["one_query_float32"] = (spec(randn(rng, (2, 1, 3), "float32"), "float32"),
                                  spec(randn(rng, (2, 9, 3), "float32"), "float32"),
                                  spec(randn(rng, (2, 9, 5), "float32"), "float32"), None)
    rng = rng_for(seed, 708)
    cases["d_k_1"] = (spec(randn(rng, (3, 5, 1))), spec(randn(rng, (3, 7, 1))), spec(randn(rng, (3, 7, 2))),
                      spec(random_mask(rng, (3, 5, 7))))
    return cases


def _layout_cases(seed=0):
    cases = {}
    rng = rng_for(seed, 721)
    cases["3d_transposed_q_strided_k_expanded_v"] = (
        spec(randn(rng, (2, 5, 3)), layout="transposed"), spec(randn(rng, (2, 7, 3)), layout="strided"),
        spec(randn(rng, (7, 4)), layout="expanded", batch=2), spec(random_mask(rng, (5, 7)), layout="transposed"))
    rng = rng_for(seed, 722)
    cases["4d_float32_strided_q_transposed_kv"] = (
        spec(randn(rng, (2, 3, 5, 3), "float32"), "float32", layout="strided"),
        spec(randn(rng, (2, 3, 7, 3), "float32"), "float32", layout="transposed"),
        spec(randn(rng, (2, 3, 7, 4), "float32"), "float32", layout="transposed"),
        spec(random_mask(rng, (2, 1, 5, 7)), layout="strided"))
    return cases


def _large_cases(seed=0):
    cases = {}
    rng = rng_for(seed, 731)
    q, k = big_scores(rng, (2,), 5, 7, 3, 1000.0, "float64")
    cases["float64_scores_+-1000"] = (spec(q), spec(k), spec(randn(rng, (2, 7, 4))), None, 1000)
    rng = rng_for(seed, 732)
    q, k = big_scores(rng, (2, 2), 5, 7, 3, 150.0, "float32")
    cases["float32_scores_+-150_mask"] = (spec(q, "float32"), spec(k, "float32"),
                                          spec(randn(rng, (2, 2, 7, 4), "float32"), "float32"),
                                          spec(random_mask(rng, (5, 7))), 150)
    rng = rng_for(seed, 733)
    q, k = big_scores(rng, (3,), 5, 6, 5, 800.0, "float64")
    cases["float64_scores_+-800_causal"] = (spec(q), spec(k), spec(randn(rng, (3, 6, 3))), spec(ref_causal(5, 6)), 800)
    return cases


def _fully_masked_cases(seed=0):
    cases = {}
    rng = rng_for(seed, 741)
    mask = random_mask(rng, (2, 3, 5, 7))
    mask[0, 1, 2] = False
    mask[1, :, 4] = False
    mask[1, 2, 0] = False
    cases["4d_some_rows_fully_masked"] = (spec(randn(rng, (2, 3, 5, 3))), spec(randn(rng, (2, 3, 7, 3))),
                                          spec(randn(rng, (2, 3, 7, 2))), spec(mask))
    rng = rng_for(seed, 742)
    q_real = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=bool)           # padding queries
    k_real = np.array([[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0, 0]], dtype=bool)
    cases["3d_float32_padding_queries"] = (
        spec(randn(rng, (2, 5, 3), "float32"), "float32"), spec(randn(rng, (2, 7, 3), "float32"), "float32"),
        spec(randn(rng, (2, 7, 4), "float32"), "float32"), spec(q_real[:, :, None] & k_real[:, None, :]))
    return cases


def _adversarial_cases(seed=0):
    """Inputs that only a softmax over each row's ALLOWED keys gets right."""
    cases = {}
    rng = rng_for(seed, 761)
    # blocked keys score ~1e3 above every allowed key: a max taken before masking (or over the
    # whole tensor) shifts the allowed keys to exp(-1e3) = 0 and gives 0/0
    q = rng.standard_normal((2, 5, 3))
    k = rng.standard_normal((2, 7, 3))
    q[..., 0] = 40.0
    blocked = np.array([1, 4])
    k[..., 0] = 0.0
    k[:, blocked, 0] = 45.0
    mask = np.ones((5, 7), dtype=bool)
    mask[:, blocked] = False
    cases["masked_keys_score_far_above_allowed"] = (spec(q), spec(k), spec(randn(rng, (2, 7, 4))), spec(mask))
    rng = rng_for(seed, 762)
    # every score equal (q = 0): uniform weights over the allowed keys, ties everywhere
    cases["ties_q_zero_float32_causal_nq3_nk8"] = (
        spec(np.zeros((2, 3, 4)), "float32"), spec(randn(rng, (2, 8, 4), "float32"), "float32"),
        spec(randn(rng, (2, 8, 3), "float32"), "float32"), spec(ref_causal(3, 8)))
    return cases


def attention_cases(seed=0):
    """Every input the attention check uses: (q, k, v, mask, large, hint)."""
    cases = {}
    for name, (q, k, v, mask) in _values_cases(seed).items():
        cases[name] = (q, k, v, mask, False, None)
    for name, (q, k, v, mask) in _layout_cases(seed).items():
        cases[name] = (q, k, v, mask, False, None)
    for name, (q, k, v, mask, level) in _large_cases(seed).items():
        cases[name] = (q, k, v, mask, True,
                       f"the scaled scores of these rows are about +{level}, -{level} or 0, where exp overflows "
                       "to inf or underflows to 0 (0/0); subtract each row's maximum score before exp")
    for name, (q, k, v, mask) in _fully_masked_cases(seed).items():
        cases[name] = (q, k, v, mask, False, FULLY_MASKED_HINT)
    for name, (q, k, v, mask) in _adversarial_cases(seed).items():
        cases[name] = (q, k, v, mask, False,
                       "the blocked keys score far above the allowed ones: take each row's maximum over the "
                       "ALLOWED keys (mask first, then the max shift)")
    return cases


FULLY_MASKED_HINT = ("a query whose keys are all blocked (fully masked row) must get all-zero weights and a "
                     "zero output row (the notebook's convention), not NaN")
ATTENTION_CASES = attention_cases()


@pytest.mark.part("attention", weight=3)
@pytest.mark.parametrize("case", list(ATTENTION_CASES))
def test_attention_values(sub, case):
    """scaled_dot_product_attention: weights and output, dtype kept, inputs untouched (3D/4D,
    masks, n_q != n_k, views, huge scores, fully masked rows, blocked keys scoring highest)."""
    q, k, v, mask, large, hint = attention_cases(sub.seed)[case]
    what = f"scaled_dot_product_attention [{case}]"
    report = probe(sub, "attention", q, k, v, mask, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    expected = attention_expected(q, k, v, mask)
    if mask is not None and hint == FULLY_MASKED_HINT:
        info = report["weights"]
        if info["value"] is not None and tuple(info["shape"]) == expected[1].shape:
            w = np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])
            dead = np.broadcast_to(~value_of(mask).any(axis=-1), w.shape[:-1])
            expect(np.all(w[dead] == 0), f"{what}: {FULLY_MASKED_HINT}; {joined(attention_inputs(q, k, v, mask))}")
    check_pair(report, expected, what, tolerance(q["dtype"], large), attention_inputs(q, k, v, mask), hint)
    for key in ("out", "weights"):
        expect(report[key]["dtype"] == q["dtype"],
               f"{what}: {key} has dtype {report[key]['dtype']}; it must keep q's dtype {q['dtype']}")
    sent = [q, k, v] + ([mask] if mask is not None else [])
    expect(untouched(report, sent), f"{what} changed its inputs in place; compute new tensors instead "
                                       "(no q /= ..., no masked_fill_ on an input)")


GRADIENT_CASES = ["3d_mask_with_a_fully_masked_row", "4d_no_mask", "float64_scores_+-1000_mask",
                  "masked_keys_score_far_above_allowed"]


def gradient_inputs(seed, case):
    rng = rng_for(seed, 751 + GRADIENT_CASES.index(case))
    if case == "3d_mask_with_a_fully_masked_row":
        q, k, v = spec(randn(rng, (2, 5, 3))), spec(randn(rng, (2, 7, 3))), spec(randn(rng, (2, 7, 4)))
        m = random_mask(rng, (2, 5, 7))
        m[1, 3] = False
        return q, k, v, spec(m)
    if case == "4d_no_mask":
        return spec(randn(rng, (2, 2, 5, 3))), spec(randn(rng, (2, 2, 7, 3))), spec(randn(rng, (2, 2, 7, 4))), None
    if case == "float64_scores_+-1000_mask":           # exp(1000) overflows float64 without the shift
        q, k = big_scores(rng, (2,), 5, 7, 3, 1000.0, "float64")
        return spec(q), spec(k), spec(randn(rng, (2, 7, 4))), spec(random_mask(rng, (5, 7)))
    return _adversarial_cases(seed)["masked_keys_score_far_above_allowed"]


@pytest.mark.part("attention", weight=3)
@pytest.mark.parametrize("case", GRADIENT_CASES)
def test_attention_gradients(sub, case):
    """Gradients of scaled_dot_product_attention reach q, k and v, finite and exact (fully
    masked rows and huge scores included: no NaN hidden behind a torch.where)."""
    q, k, v, mask = gradient_inputs(sub.seed, case)
    rng = rng_for(sub.seed, 759)
    out_shape = value_of(q).shape[:-1] + (value_of(v).shape[-1],)
    w_shape = value_of(q).shape[:-1] + (value_of(k).shape[-2],)
    # random upstream gradients for both results: L = sum(G_out * out) + sum(G_w * weights)
    grads = {"out": rng.standard_normal(out_shape), "weights": rng.standard_normal(w_shape)}
    what = f"gradients of scaled_dot_product_attention [{case}]"
    report = probe(sub, "attention", q, k, v, mask, grads, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")

    leaves = {name: t64(value_of(s)).requires_grad_(True) for name, s in (("q", q), ("k", k), ("v", v))}
    tm = None if mask is None else torch.tensor(value_of(mask))
    out, w = ref_attention(leaves["q"], leaves["k"], leaves["v"], tm)
    ((out * t64(grads["out"])).sum() + (w * t64(grads["weights"])).sum()).backward()
    inputs = {**attention_inputs(q, k, v, mask), "G": "random dL/dout and dL/dweights"}
    for name, leaf in leaves.items():
        got = report["grads"][name]
        if got is None:
            fail(f"{what}: no gradient reached {name} (is the result computed from {name} with torch operations?)")
        if not np.isfinite(got).all():
            fail(f"{what}: {name}.grad holds NaN/inf; a fully masked row or a huge score must not produce NaN "
                 "in the backward pass either (a NaN that torch.where hides in the forward pass still poisons "
                 "the gradient)")
        want = leaf.grad.numpy()
        # float64 autograd of the same formula, another order of operations: ~1e-13 relative to the
        # largest gradient (scores of 1000 make gradients of ~1000); 1e-9 of that scale is the margin
        assert_close(got, want, what=f"{what}: {name}.grad", inputs=inputs,
                     atol=1e-9 * max(1.0, float(np.abs(want).max())), rtol=1e-9)


# =========================================================================== multihead (3)
SPLIT_CASES = {
    "B2_T5_d12_h3": ((2, 5, 12), 3, "float64", "contiguous"),
    "B1_T7_d15_h5_float32": ((1, 7, 15), 5, "float32", "contiguous"),
    "B3_T4_d6_h1": ((3, 4, 6), 1, "float64", "contiguous"),
    "B2_T3_d6_h6": ((2, 3, 6), 6, "float64", "contiguous"),
    "B2_T5_d12_h4_transposed_view": ((2, 5, 12), 4, "float64", "transposed"),
}


@pytest.mark.part("multihead")
@pytest.mark.parametrize("case", list(SPLIT_CASES))
def test_split_heads(sub, case):
    """split_heads: head i holds features i*d_head .. (i+1)*d_head - 1 of every token."""
    shape, h, dtype, layout = SPLIT_CASES[case]
    x = spec(randn(rng_for(sub.seed, 801 + len(case)), shape, dtype), dtype, layout=layout)
    what = f"split_heads(x, num_heads={h}) [{case}]"
    report = probe(sub, "split_heads", x, h, what=what)
    inputs = {"x": describe(x)}
    check_value(report["out"], ref_split(value_of(x), h), what, F64, inputs)   # a pure copy: exact
    expect(untouched(report, [x]), f"{what} changed its input in place")


MERGE_CASES = {
    "B2_H3_T5_d4": ((2, 3, 5, 4), "float64", "contiguous"),
    "B1_H5_T7_d3_float32": ((1, 5, 7, 3), "float32", "contiguous"),
    "B2_H1_T5_d6": ((2, 1, 5, 6), "float64", "contiguous"),
    "B2_H3_T5_d4_split_heads_layout": ((2, 3, 5, 4), "float64", "heads"),
    "B2_H3_T5_d4_transposed_view": ((2, 3, 5, 4), "float64", "transposed"),
}


@pytest.mark.part("multihead")
@pytest.mark.parametrize("case", list(MERGE_CASES))
def test_merge_heads(sub, case):
    """merge_heads undoes split_heads, on contiguous and non-contiguous inputs."""
    shape, dtype, layout = MERGE_CASES[case]
    x = spec(randn(rng_for(sub.seed, 811 + len(case)), shape, dtype), dtype, layout=layout)
    what = f"merge_heads(x) [{case}]"
    report = probe(sub, "merge_heads", x, what=what)
    check_value(report["out"], ref_merge(value_of(x)), what, F64, {"x": describe(x)})
    expect(untouched(report, [x]), f"{what} changed its input in place")


def mha_weights(rng, d, dtype):
    return [spec(as_dtype(rng.standard_normal((d, d)) / math.sqrt(d), dtype), dtype) for _ in range(4)]


def _mha_cases(seed=0):
    cases = {}
    rng = rng_for(seed, 821)
    cases["self_B2_T5_d12_h3"] = (spec(randn(rng, (2, 5, 12))), None, mha_weights(rng, 12, "float64"), 3, None)
    rng = rng_for(seed, 822)
    lengths = np.array([7, 4])
    padding = (np.arange(7)[None, :] < lengths[:, None])[:, None, None, :]
    cases["cross_nq5_nk7_d12_h4_padding"] = (spec(randn(rng, (2, 5, 12))), spec(randn(rng, (2, 7, 12))),
                                             mha_weights(rng, 12, "float64"), 4, spec(padding))
    rng = rng_for(seed, 823)
    cases["self_B2_T6_d10_h2_causal"] = (spec(randn(rng, (2, 6, 10))), None, mha_weights(rng, 10, "float64"), 2,
                                         spec(ref_causal(6, 6)))
    rng = rng_for(seed, 824)
    cases["self_B1_T7_d15_h5_float32_mask"] = (spec(randn(rng, (1, 7, 15), "float32"), "float32"), None,
                                               mha_weights(rng, 15, "float32"), 5,
                                               spec(random_mask(rng, (7, 7))))
    rng = rng_for(seed, 825)
    cases["cross_one_query_d6_h3"] = (spec(randn(rng, (3, 1, 6))), spec(randn(rng, (3, 9, 6))),
                                      mha_weights(rng, 6, "float64"), 3, None)
    return cases


MHA = _mha_cases()


def mha_inputs(x_q, x_kv, ws, h, mask):
    shown = {"x_q": describe(x_q),
             "x_kv": "the same tensor as x_q (self-attention)" if x_kv is None else describe(x_kv),
             "w_q, w_k, w_v, w_o": f"{ws[0]['dtype']} {value_of(ws[0]).shape}", "num_heads": str(h)}
    if mask is not None:
        shown["mask"] = describe(mask)
    return shown


def mha_expected(x_q, x_kv, ws, h, mask, requires_grad=False, report=None):
    """The expected (out, weights, leaves...). multi_head_attention runs with the stand-in swapped
    in for scaled_dot_product_attention; a student who computed attention without calling it
    (report["stand_in_calls"] == 0) is held to real attention instead."""
    stand_in = report is not None and report.get("stand_in_calls", 0) > 0
    xq = t64(value_of(x_q)).requires_grad_(requires_grad)
    xkv = xq if x_kv is None else t64(value_of(x_kv)).requires_grad_(requires_grad)
    tw = [t64(value_of(w)).requires_grad_(requires_grad) for w in ws]
    tm = None if mask is None else torch.tensor(value_of(mask))
    out, weights = ref_mha(xq, xkv, *tw, h, tm, attention=ref_stand_in if stand_in else ref_attention)
    return out, weights, xq, xkv, tw


@pytest.mark.part("multihead", weight=2)
@pytest.mark.parametrize("case", list(MHA))
def test_multi_head_attention(sub, case):
    """multi_head_attention: projections, heads, attention, merge, W_O (self and cross attention, masks)."""
    x_q, x_kv, ws, h, mask = _mha_cases(sub.seed)[case]
    what = f"multi_head_attention [{case}]"
    report = probe(sub, "mha", x_q, x_kv, ws, h, mask, what=what)
    out, weights, *_ = mha_expected(x_q, x_kv, ws, h, mask, report=report)
    check_pair(report, (out.detach().numpy(), weights.detach().numpy()), what, tolerance(x_q["dtype"]),
               mha_inputs(x_q, x_kv, ws, h, mask))
    expect(untouched(report, [x_q, x_q if x_kv is None else x_kv, *ws]), f"{what} changed one of its inputs in place")


@pytest.mark.part("multihead")
def test_multi_head_attention_gradients(sub):
    """Gradients of multi_head_attention reach both inputs and all four weight matrices."""
    rng = rng_for(sub.seed, 831)
    x_q, x_kv, ws, h = spec(randn(rng, (2, 4, 12))), spec(randn(rng, (2, 6, 12))), mha_weights(rng, 12, "float64"), 3
    mask = spec((np.arange(6)[None, :] < np.array([6, 3])[:, None])[:, None, None, :])
    g_out = rng.standard_normal((2, 4, 12))                     # a random upstream gradient dL/dout
    what = "gradients of multi_head_attention [cross_nq4_nk6_d12_h3_padding]"
    report = probe(sub, "mha", x_q, x_kv, ws, h, mask, g_out, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    out, _, xq, xkv, tw = mha_expected(x_q, x_kv, ws, h, mask, requires_grad=True, report=report)
    (out * t64(g_out)).sum().backward()
    expected = {"x_q": xq, "x_kv": xkv, "w_q": tw[0], "w_k": tw[1], "w_v": tw[2], "w_o": tw[3]}
    inputs = {**mha_inputs(x_q, x_kv, ws, h, mask), "G": "random dL/dout"}
    for name, leaf in expected.items():
        got = report["grads"][name]
        if got is None:
            fail(f"{what}: no gradient reached {name}")
        assert_close(got, leaf.grad.numpy(), what=f"{what}: {name}.grad", inputs=inputs, **F64)


# =========================================================================== positional_encoding (2)
def pe_tolerance(max_pos):
    # The reference is float64; the student returns float32 (rounding: 6e-8) and may compute the angle
    # pos * w in float32, whose relative error (a few ulp, ~6e-8 each) is multiplied by |pos|: measured
    # ~6e-8 * pos for several float32 implementations. 3e-7 * pos + 1e-6 gives 5x margin; the
    # mistakes (cos columns with the wrong frequency, sin/cos swapped or not interleaved, positions
    # from 0 instead of offset) change values by 1e-2 .. 1.
    return dict(atol=1e-6 + 3e-7 * max_pos, rtol=0.0)


PE_CASES = [(1, 4, None), (13, 5, None), (97, 33, None), (7, 1, None), (200, 64, None),
            (9, 10, 37), (60, 7, 500), (1, 6, 1000)]


@pytest.mark.part("positional_encoding", weight=3)
@pytest.mark.parametrize("n_pos,d_model,offset", PE_CASES,
                         ids=[f"n{n}_d{d}" + (f"_offset{o}" if o is not None else "") for n, d, o in PE_CASES])
def test_positional_encoding_values(sub, n_pos, d_model, offset):
    """sinusoidal_positional_encoding: interleaved sin/cos, odd d_model, position offsets, float32."""
    call = f"sinusoidal_positional_encoding({n_pos}, {d_model}" + (f", offset={offset})" if offset is not None else ")")
    info = probe(sub, "positional_encoding", n_pos, d_model, offset, what=call)
    got = readable_tensor(info, call)
    expected = ref_pe(n_pos, d_model, offset or 0)
    if got.shape != expected.shape:
        fail(f"{call}: shape {got.shape} but expected {expected.shape}")
    expect(info["dtype"] == "float32", f"{call} must return a float32 tensor, got {info['dtype']}")
    assert_close(got, expected, what=call, **pe_tolerance((offset or 0) + n_pos - 1))


@pytest.mark.part("positional_encoding")
def test_positional_encoding_float32(sub):
    """sinusoidal_positional_encoding returns float32."""
    call = "sinusoidal_positional_encoding(50, 16)"
    info = probe(sub, "positional_encoding", 50, 16, None, what=call)
    readable_tensor(info, call)
    expect(info["dtype"] == "float32", f"{call} must return a float32 tensor, got {info['dtype']}")


# =========================================================================== causal_mask (1)
CAUSAL_CASES = [(1, None), (5, None), (2, 2), (6, 6), (3, 7), (1, 9), (4, 11)]


@pytest.mark.part("causal_mask")
@pytest.mark.parametrize("n_q,n_k", CAUSAL_CASES, ids=[f"nq{q}_nk{k}" for q, k in CAUSAL_CASES])
def test_causal_mask(sub, n_q, n_k):
    """causal_mask: query i is the position n_k - n_q + i and sees keys 0 .. n_k - n_q + i, for n_q <= n_k."""
    call = f"causal_mask({n_q})" if n_k is None else f"causal_mask({n_q}, {n_k})"
    info = probe(sub, "causal", n_q, n_k, what=call)
    if info["kind"] != "torch":
        fail(f"{call} must return a torch.Tensor, got {info['kind']}")
    expect(info["dtype"] == "bool", f"{call} must return a bool tensor (True = attend), got {info['dtype']}")
    expected = ref_causal(n_q, n_q if n_k is None else n_k)
    got = np.asarray(info["value"]).reshape(info["shape"]).astype(bool)
    if got.shape != expected.shape:
        fail(f"{call}: shape {got.shape} but expected {expected.shape}")
    wrong = np.argwhere(got != expected)
    if len(wrong):
        i, j = (int(x) for x in wrong[0])
        nk = expected.shape[1]
        said = "True (attend)" if got[i, j] else "False (blocked)"
        fail(f"{call}: {len(wrong)} wrong entr{'y' if len(wrong) == 1 else 'ies'}; first at [{i}, {j}]: query {i} is "
             f"position {nk - n_q + i} of the positions 0..{nk - 1}, key {j} is position {j}; your mask says {said}")
