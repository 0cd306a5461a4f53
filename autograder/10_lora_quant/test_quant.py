"""Hidden suite of 10_lora_quant, parts quantize (3 points) and error_bound (2 points).

Inputs: seeded, odd shapes ((7, 13), (9, 13), conv weights (6, 3, 3, 3), ...), values up to ~1e4
and negative, an outlier channel (x40) and an all-zero channel, ReLU-like all-positive and
all-negative channels, contiguous tensors, transposed views and every other row of a taller
tensor. quantize is also called with scales that are too small on purpose, so that clamping to
[-128, 127] / [0, 255] happens (a cast without clamp wraps around instead).

Expected values: float64 NumPy in this process, from the exact values the student's code sees
(float32 inputs are drawn in float64 and rounded here). Rounding: torch.round (half to even) in
the student's float32 / float64 arithmetic may land on the other side of an exact .5 than the
float64 reference; wherever x / s + z lies within TIE of a .5, both neighbours are accepted.

error_bound is probed with stand-in compute_qparams / quantize / dequantize (see probes.py: the
judge's own scale and zero-point for x, a floor quantizer, mid-step dequantization), whose
effect is computed here, so only the student's roundtrip_error is tested there.

Every input is drawn from the submission's seed (`sub.seed`) and the case's number: the same
notebook always gets the same inputs, another notebook other ones.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

EPS = 1e-8
RANGES = {"symmetric": (-128, 127, "int8"), "asymmetric": (0, 255, "uint8")}

# --------------------------------------------------------------------------- tolerances
# Scales: one float32 rounding of amax / 127 (two for (x_max - x_min) / 255): relative error
# <= 2.4e-7; 1e-6 leaves margin and is far below any mistake (a wrong range changes s by > 1%).
SCALE_RTOL = {"float32": 1e-6, "float64": 1e-12}
# A code x / s + z within TIE of an exact .5 may round either way in float32 (x / s carries a
# relative error <= ~2.4e-7 from s and the division, i.e. <= 6e-5 for |x / s| <= 255); 1e-3 is
# a wide margin and random inputs almost never come that close (a few codes per suite at most).
TIE = 1e-3
# Dequantized values: (q - z) is exact, one rounding in the product: relative 6e-8 in float32.
DEQ = {"float32": dict(atol=1e-12, rtol=1e-6), "float64": dict(atol=1e-15, rtol=1e-12)}
# max_error of a round trip: the reference is float64, the (reference) quantization inside the
# sandbox runs in the input's dtype. A near-tie element has error ~s/2 either way, and float32
# dequantization adds ~|x| * 6e-8 <= 127 s * 6e-8 ~ 1e-5 s; the expected max errors are ~s/2, so
# rtol 1e-3 covers this 50x over. The mistakes (mean instead of max, wrong axes, s instead of
# s/2) are off by 30% or more.
ERR = {"float32": dict(atol=1e-12, rtol=1e-3), "float64": dict(atol=1e-15, rtol=1e-9)}


# --------------------------------------------------------------------------- inputs
_SEED = [0]     # the submission's seed while seeded() builds a case table
_TABLES = {}


def seeded(builder, sub):
    """builder()'s case table for this submission's seed (built once per judge and seed)."""
    key = (builder.__name__, sub.seed)
    if key not in _TABLES:
        _SEED[0] = sub.seed
        _TABLES[key] = builder()
    return _TABLES[key]


def rng_for(case_seed):
    return np.random.default_rng([_SEED[0], case_seed])


def as_dtype(a, dtype):
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


def spec(value, dtype="float32", layout="contiguous"):
    value = np.asarray(value)
    return {"value": value, "shape": list(value.shape), "dtype": dtype, "layout": layout}


def untouched(after, s) -> bool:
    """The input built from spec s, as describe() read it after the call, still holds s's values
    (decided here: in the sandbox torch.equal / clone may be patched)."""
    return unchanged(after, np.asarray(s["value"]).reshape(s["shape"]))


def val(s):
    return np.asarray(s["value"], dtype=np.float64).reshape(s["shape"])


LAYOUT_WORDS = {"contiguous": "", "transposed": ", a transposed view (non-contiguous)",
                "strided": ", every other row of a taller tensor (non-contiguous)"}


def describe(s):
    return f"x: {s['dtype']} {tuple(s['shape'])}{LAYOUT_WORDS[s['layout']]}"


def weights(seed, shape, dtype="float32", outlier=None, zero=None, scale=1.0):
    rng = rng_for(seed)
    w = rng.standard_normal(shape) * scale
    if outlier is not None:
        w[outlier] *= 40.0
    if zero is not None:
        w[zero] = 0.0
    return as_dtype(w, dtype)


def activations(seed, shape, dtype="float32"):
    rng = rng_for(seed)
    return as_dtype(np.maximum(rng.standard_normal(shape) * 3.0 + 0.5, 0.0), dtype)


def mixed_channels(seed, dtype="float32"):
    """(7, 12): rows all-negative, all-positive, zero, mixed, huge outlier, tiny, mixed."""
    rng = rng_for(seed)
    x = rng.standard_normal((7, 12))
    x[0] = -np.abs(x[0]) - 0.1
    x[1] = np.abs(x[1]) + 0.2
    x[2] = 0.0
    x[4] *= 1e4
    x[5] *= 1e-3
    x[6] = x[6] * 50 - 20
    return as_dtype(x, dtype)


# --------------------------------------------------------------------------- float64 references
def reduce_axes(ndim, dim):
    if dim is None:
        return tuple(range(ndim))
    return tuple(d for d in range(ndim) if d != dim % ndim)


def ref_qparams(x, mode, dim=None):
    axes = reduce_axes(x.ndim, dim)
    keep = dim is not None
    if mode == "symmetric":
        scale = np.maximum(np.abs(x).max(axis=axes, keepdims=keep), EPS) / 127
        return scale, np.zeros_like(scale), None
    x_min = np.minimum(x.min(axis=axes, keepdims=keep), 0.0)
    x_max = np.maximum(x.max(axis=axes, keepdims=keep), 0.0)
    scale = np.maximum(x_max - x_min, EPS) / 255
    raw = -x_min / scale
    return scale, np.clip(np.round(raw), 0, 255), raw


def near_tie(v):
    return np.abs(np.abs(v - np.floor(v)) - 0.5) < TIE


def code_choices(v, mode):
    """(low, high) acceptable integer codes for the pre-rounding values v (equal unless near a tie)."""
    q_min, q_max, _ = RANGES[mode]
    tie = near_tie(v)
    low = np.where(tie, np.floor(v), np.round(v))
    high = np.where(tie, np.ceil(v), np.round(v))
    return np.clip(low, q_min, q_max), np.clip(high, q_min, q_max)


# --------------------------------------------------------------------------- helpers
def probe(sub, name, *args, what):
    try:
        return sub.probe(name, *args)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def tensor_of(info, what):
    if info["kind"] != "torch":
        hint = " (keep it a torch tensor)" if info["kind"].startswith("numpy") else ""
        fail(f"{what} must be a torch.Tensor, got {info['kind']}{hint}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    return np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])


def expect_shape(got, shape, what, hint=""):
    if tuple(got.shape) != tuple(shape):
        fail(f"{what}: shape {tuple(got.shape)} but expected {tuple(shape)}{hint}")


def check_codes(got, low, high, what, inputs):
    bad = (got < low) | (got > high)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        fail(f"{what}: {int(bad.sum())} of {got.size} code(s) wrong, first at index {index} "
             f"(got {int(got[index])}); {inputs}")


PER_CHANNEL_HINT = (" (per-channel: one value per slice along `dim`, reduced over ALL OTHER axes with "
                    "keepdim, e.g. x (5, 7, 3), dim=1 -> (1, 7, 1); per-tensor: shape ())")


# =========================================================================== quantize (3)
def _qparams_cases():
    w = weights(2001, (7, 13), scale=300.0)
    c = {
        "symmetric_per_tensor_large": (spec(w), "symmetric", None),
        "symmetric_dim0_outlier_and_zero_rows": (spec(weights(2002, (9, 13), outlier=3, zero=6)), "symmetric", 0),
        "symmetric_dim1_transposed": (spec(weights(2003, (5, 11), outlier=(slice(None), 4)), layout="transposed"),
                                      "symmetric", 1),
        "symmetric_conv_weight_dim0_float64": (spec(weights(2004, (6, 3, 3, 3), "float64", zero=2), "float64"),
                                               "symmetric", 0),
        "symmetric_dim-1_strided": (spec(weights(2005, (3, 4, 7), scale=0.02), layout="strided"), "symmetric", -1),
        "asymmetric_per_tensor_relu": (spec(activations(2006, (5, 17))), "asymmetric", None),
        "asymmetric_dim0_mixed_channels": (spec(mixed_channels(2007)), "asymmetric", 0),
        "asymmetric_dim1_transposed_float64": (spec(weights(2008, (6, 9), "float64") - 0.7, "float64",
                                                    layout="transposed"), "asymmetric", 1),
        "asymmetric_per_tensor_negative_large": (spec(as_dtype(rng_for(2009).uniform(-3e3, 5e2, (4, 15)),
                                                               "float32")), "asymmetric", None),
    }
    return c


QPARAMS = _qparams_cases()


@pytest.mark.part("quantize")
@pytest.mark.parametrize("case", list(QPARAMS))
def test_compute_qparams(sub, case):
    """compute_qparams: scale과 zero-point (symmetric / asymmetric, per-tensor / per-channel)"""
    x, mode, dim = seeded(_qparams_cases, sub)[case]
    inputs = f"{describe(x)}, mode={mode!r}, dim={dim}"
    what = f"compute_qparams [{case}]"
    rep = probe(sub, "qparams", x, mode, dim, what=what)
    if rep["error"]:
        fail(f"{what}: {rep['error']}")
    scale_ref, zp_ref, raw = ref_qparams(val(x), mode, dim)
    scale = tensor_of(rep["scale"], f"{what}: scale")
    expect_shape(scale, scale_ref.shape, f"{what}: scale", PER_CHANNEL_HINT)
    expect(rep["scale"]["dtype"] == x["dtype"], f"{what}: scale has dtype {rep['scale']['dtype']}, "
                                               f"expected x's dtype {x['dtype']}")
    assert_close(scale, scale_ref, atol=0.0, rtol=SCALE_RTOL[x["dtype"]], what=f"{what}: scale", inputs=None)
    zp = tensor_of(rep["zero_point"], f"{what}: zero_point")
    expect_shape(zp, zp_ref.shape, f"{what}: zero_point", PER_CHANNEL_HINT)
    expect(rep["zero_point"]["dtype"] in ("int32", "int64", "int16", "int8", "uint8"),
           f"{what}: zero_point has dtype {rep['zero_point']['dtype']}; it must be an integer tensor (torch.int32)")
    if raw is None:
        expect(np.all(zp == 0), f"{what}: symmetric quantization has zero_point 0 everywhere; {inputs}")
    else:
        low, high = code_choices(raw, "asymmetric")
        if np.any(zp < 0):
            fail(f"{what}: negative zero_point {int(zp.min())}: with x_hat = s (q - z), the code q = 0 must "
                 f"stand for x_min <= 0, so z = round(-x_min / s) >= 0; {inputs}")
        check_codes(zp, low, high, f"{what}: zero_point", inputs)
    expect(untouched(rep["x_after"], x), f"{what}: compute_qparams changed its input x in place")


def _quantize_cases():
    c = {}
    x = weights(2101, (9, 14), scale=2.0)
    s = np.float32(np.abs(x).max() / 127 / 3)                      # too small: about 2/3 of the codes clamp
    c["symmetric_per_tensor_clipping"] = (spec(x), s, 0, "symmetric", None)
    x = weights(2102, (7, 10), outlier=1, scale=50.0) - 20.0
    s = as_dtype(np.abs(x).max(axis=1, keepdims=True) / 127, "float32")
    c["symmetric_dim0_no_clipping"] = (spec(x), s, np.zeros_like(s), "symmetric", 0)
    x = weights(2103, (6, 11), scale=1.5) + 0.3
    s = as_dtype(np.full((1, 11), 0.008), "float32")             # too small: both ends clamp
    z = np.array([[40, 128, 200, 0, 255, 90, 17, 130, 222, 64, 101]], dtype=np.float64)
    c["asymmetric_dim1_transposed_clipping"] = (spec(x, layout="transposed"), s, z, "asymmetric", 1)
    x = as_dtype(rng_for(2104).uniform(-1.0, 5.0, (5, 13)), "float64")
    c["asymmetric_per_tensor_float64"] = (spec(x, "float64"), np.float64(6.2 / 255), 37, "asymmetric", None)
    x = weights(2105, (3, 4, 7), scale=1e3)
    s = as_dtype(np.abs(x).max(axis=(0, 1), keepdims=True) / 127, "float32")
    s[..., 2] /= 4                                                # one clipped channel
    c["symmetric_dim-1_strided_one_clipped_channel"] = (spec(x, layout="strided"), s, np.zeros_like(s),
                                                       "symmetric", -1)
    return c


QUANTIZE = _quantize_cases()


@pytest.mark.part("quantize")
@pytest.mark.parametrize("case", list(QUANTIZE))
def test_quantize(sub, case):
    """quantize: round 후 zero-point를 더하고 범위로 clamp한 뒤 int8 / uint8"""
    x, s, z, mode, dim = seeded(_quantize_cases, sub)[case]
    s, z = np.asarray(s, dtype=np.float64), np.asarray(z, dtype=np.float64)
    inputs = f"{describe(x)}, mode={mode!r}, scale {s.shape}, zero_point {z.shape}"
    what = f"quantize [{case}]"
    rep = probe(sub, "quantize", x, spec(s, x["dtype"]), spec(z.astype(np.int32), "int32"), mode, what=what)
    q_min, q_max, q_dtype = RANGES[mode]
    q = tensor_of(rep["q"], what)
    expect_shape(q, val(x).shape, what)
    expect(rep["q"]["dtype"] == q_dtype, f"{what}: dtype {rep['q']['dtype']}, expected torch.{q_dtype} for mode={mode!r}")
    v = val(x) / s + z
    low, high = code_choices(v, mode)
    out_of_range = (v < q_min - 0.5) | (v > q_max + 0.5)
    bad = (q < low) | (q > high)
    # Only out-of-range codes wrong: the clamp is missing (or comes after the cast, which wraps).
    # Wrong codes inside the range too point elsewhere (scale, zero-point sign): the generic message.
    if (bad & out_of_range).any() and not (bad & ~out_of_range).any():
        fail(f"{what}: {int((bad & out_of_range).sum())} value(s) whose round(x / s) + z lies outside "
             f"[{q_min}, {q_max}] got a wrong code: clamp to [{q_min}, {q_max}] BEFORE the cast to {q_dtype} "
             f"(the cast wraps around); {inputs}")
    check_codes(q, low, high, what, inputs)
    expect(untouched(rep["x_after"], x), f"{what}: quantize changed its input x in place")


def _dequantize_cases():
    c = {}
    rng = rng_for(2201)
    q = rng.integers(0, 256, (9, 13)).astype(np.float64)
    c["uint8_per_tensor_zero_point_200"] = (spec(q, "uint8"), spec(np.float64(0.0173), "float32"),
                                            spec(np.int32(200), "int32"))
    q = rng.integers(-128, 128, (7, 11)).astype(np.float64)
    s = as_dtype(rng.uniform(1e-3, 2.0, (7, 1)), "float32")
    c["int8_dim0"] = (spec(q, "int8"), spec(s, "float32"), spec(np.zeros((7, 1), np.int32), "int32"))
    q = rng.integers(0, 256, (5, 9)).astype(np.float64)
    s = rng.uniform(1e-2, 40.0, (1, 9))
    z = rng.integers(0, 256, (1, 9)).astype(np.int32)
    c["uint8_dim1_float64_transposed"] = (spec(q, "uint8", "transposed"), spec(s, "float64"), spec(z, "int32"))
    return c


DEQUANTIZE = _dequantize_cases()


@pytest.mark.part("quantize")
@pytest.mark.parametrize("case", list(DEQUANTIZE))
def test_dequantize(sub, case):
    """dequantize: scale * (q - z)를 scale의 dtype으로"""
    q, s, z = seeded(_dequantize_cases, sub)[case]
    inputs = f"q: {q['dtype']} {tuple(q['shape'])}{LAYOUT_WORDS[q['layout']]}, scale {s['dtype']} " \
             f"{tuple(s['shape'])}, zero_point int32 {tuple(z['shape'])}"
    what = f"dequantize [{case}]"
    rep = probe(sub, "dequantize", q, s, z, what=what)
    got = tensor_of(rep["x_hat"], what)
    expected = (val(q) - val(z)) * val(s)
    expect_shape(got, expected.shape, what)
    expect(rep["x_hat"]["dtype"] == s["dtype"], f"{what}: dtype {rep['x_hat']['dtype']}, expected scale's "
                                               f"dtype {s['dtype']}")
    if q["dtype"] == "uint8" and np.any((val(q) < val(z)) & (got > 0)):
        fail(f"{what}: codes below the zero-point give positive values, but x_hat = s (q - z) is negative "
             f"there: convert q and zero_point to float before subtracting (in uint8, q - z wraps around) "
             f"and check the sign of the zero-point; {inputs}")
    assert_close(got, expected, what=what, **DEQ[s["dtype"]])
    expect(untouched(rep["q_after"], q), f"{what}: dequantize changed its input q in place")


ROUNDTRIP = [name for name in ("symmetric_dim0_outlier_and_zero_rows",
                                              "asymmetric_dim0_mixed_channels",
                                              "asymmetric_dim1_transposed_float64",
                                              "asymmetric_per_tensor_negative_large",
                                              "symmetric_dim-1_strided",
                                              "calibrated:asymmetric_per_tensor_relu",
                                              "calibrated:symmetric_dim0_outlier_and_zero_rows")]
# "calibrated:": static quantization, the qparams of a calibration tensor (x / 2) applied to x, so about
# half of the values lie beyond the calibrated range and must saturate at the ends of the code range


@pytest.mark.part("quantize")
@pytest.mark.parametrize("case", ROUNDTRIP)
def test_roundtrip(sub, case):
    """왕복: dequantize(quantize(x))가 올바른 격자 위에 있고 x의 dtype 유지

    compute_qparams -> quantize -> dequantize, all three the student's."""
    calibrated = case.startswith("calibrated:")
    x, mode, dim = seeded(_qparams_cases, sub)[case.split(":")[-1]]
    xv = val(x)
    calib = spec(as_dtype(xv / 2, x["dtype"]), x["dtype"]) if calibrated else None
    inputs = f"{describe(x)}, mode={mode!r}, dim={dim}"
    what = (f"dequantize(quantize(x, *compute_qparams(calib))) with calib = x / 2 (values beyond calib's range "
            f"saturate) [{case}]" if calibrated else f"dequantize(quantize(x, *compute_qparams(x))) [{case}]")
    rep = probe(sub, "roundtrip", x, mode, dim, calib, what=what)
    got = tensor_of(rep["x_hat"], what)
    expect_shape(got, xv.shape, what)
    expect(rep["x_hat"]["dtype"] == x["dtype"], f"{what}: x_hat has dtype {rep['x_hat']['dtype']}, expected x's "
                                               f"{x['dtype']} (scale in x's dtype, dequantized in scale's dtype)")
    s, z, _ = ref_qparams(val(calib) if calibrated else xv, mode, dim)
    low, high = code_choices(xv / s + z, mode)
    tol = DEQ[x["dtype"]]["rtol"] * np.maximum(np.abs(xv), s) + 1e-3 * s
    ok = (np.abs(got - s * (low - z)) <= tol) | (np.abs(got - s * (high - z)) <= tol)
    if not ok.all():
        index = tuple(int(i) for i in np.argwhere(~ok)[0])
        err = np.abs(got - xv)
        fail(f"{what}: {int((~ok).sum())} of {got.size} value(s) are not on the integer grid of the correct "
             f"scale / zero-point, first at index {index}; max |x - x_hat| = {err.max():.3g}; {inputs}")


# =========================================================================== error_bound (2)
def _error_cases():
    return {
        "symmetric_per_tensor_outlier": (spec(weights(2301, (12, 17), outlier=4)), "symmetric", None),
        "symmetric_dim0_outlier": (spec(weights(2301, (12, 17), outlier=4)), "symmetric", 0),
        "asymmetric_dim1_transposed_float64": (spec(weights(2302, (7, 9), "float64", outlier=(slice(None), 2)) + 0.4,
                                                    "float64", layout="transposed"), "asymmetric", 1),
        "asymmetric_per_tensor_relu_3d": (spec(activations(2303, (5, 3, 7))), "asymmetric", None),
        "symmetric_conv_dim0_zero_channel_float64": (spec(weights(2304, (6, 3, 3, 3), "float64", zero=1, outlier=3),
                                                          "float64"), "symmetric", 0),
    }


ERROR = list(_error_cases())


def stand_in_qparams(x, mode, dim, dtype, rng):
    """The scale and zero-point the stand-in compute_qparams returns: x's own, with the scale
    stretched by a random 1.05-1.4 per channel (so they are not x's qparams), in x's dtype."""
    s, _, _ = ref_qparams(x, mode, dim)
    s = as_dtype(s * rng.uniform(1.05, 1.4, np.shape(s)), dtype)
    if mode == "symmetric":
        return s, np.zeros(np.shape(s))
    x_min = np.minimum(x.min(axis=reduce_axes(x.ndim, dim), keepdims=dim is not None), 0.0)
    return s, np.clip(np.round(-x_min / s), 0, 255)


def stand_in_roundtrip_error(x, mode, dim, s, z, dtype):
    """max |x - x_hat| with the stand-in quantizer, in x's dtype as the sandbox computes x_hat."""
    tdt = torch.float32 if dtype == "float32" else torch.float64
    xt, st, zt = torch.tensor(x, dtype=tdt), torch.tensor(s, dtype=tdt), torch.tensor(z, dtype=torch.int32)
    q_min, q_max, _ = RANGES[mode]
    q = (torch.floor(xt / st) + zt).clamp(q_min, q_max).to(torch.int16)
    x_hat = ((q.to(tdt) - zt.to(tdt) + 0.5) * st).double().numpy()
    err = np.abs(x - x_hat)
    return err.max(axis=reduce_axes(x.ndim, dim), keepdims=dim is not None), s / 2


@pytest.mark.part("error_bound")
@pytest.mark.parametrize("case", ERROR)
def test_roundtrip_error(sub, case):
    """roundtrip_error: 최대 오차와 상한 scale / 2 (채점기의 대역 양자화기로)"""
    x, mode, dim = seeded(_error_cases, sub)[case]
    inputs = f"{describe(x)}, mode={mode!r}, dim={dim}"
    what = f"roundtrip_error [{case}] (with the judge's stand-in quantizer)"
    xv = val(x)
    s, z = stand_in_qparams(xv, mode, dim, x["dtype"], np.random.default_rng([sub.seed, 2399]))
    rep = probe(sub, "roundtrip_error", x, mode, dim, spec(s, x["dtype"]), spec(z.astype(np.int32), "int32"),
                what=what)
    if rep["error"]:
        fail(f"{what}: {rep['error']}")
    expect(rep["calls"][:1] == ["compute_qparams"] and "quantize" in rep["calls"] and "dequantize" in rep["calls"],
           f"{what}: roundtrip_error must use compute_qparams, quantize and dequantize (called: {rep['calls']})")
    err_ref, bound_ref = stand_in_roundtrip_error(xv, mode, dim, s, z, x["dtype"])
    bound = tensor_of(rep["bound"], f"{what}: bound")
    expect_shape(bound, bound_ref.shape, f"{what}: bound", PER_CHANNEL_HINT)
    # scale / 2 in x's dtype: exact (a power-of-two division)
    assert_close(bound, bound_ref, atol=0.0, rtol=SCALE_RTOL[x["dtype"]], what=f"{what}: bound (scale / 2)",
                 inputs=None)
    expect(rep["bound"]["dtype"] == x["dtype"], f"{what}: bound has dtype {rep['bound']['dtype']}, expected x's {x['dtype']}")
    err = tensor_of(rep["max_error"], f"{what}: max_error")
    expect_shape(err, err_ref.shape, f"{what}: max_error", PER_CHANNEL_HINT)
    # max_error: the same x_hat as here; |x - x_hat| in float32 rounds once (6e-8 relative)
    assert_close(err, err_ref, what=f"{what}: max_error (max |x - x_hat| {'per channel' if dim is not None else 'over the tensor'})",
                 **ERR[x["dtype"]])
    expect(untouched(rep["x_after"], x), f"{what}: roundtrip_error changed its input x in place")
