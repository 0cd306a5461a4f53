"""Hidden suite of 05_cnn: conv formulas, im2col/conv2d, max-pooling, ResNet BasicBlock.

Every expected value is computed here, in the judge process, in float64: conv2d and im2col with
torch (F.conv2d, F.unfold), max-pooling with a NumPy reference of the notebook's tie rule that is
cross-checked against F.max_pool2d and its autograd, the BasicBlock with a functional torch
reference (F.conv2d, F.batch_norm). Inputs are seeded and have odd, unequal sizes; some arrive as a
non-contiguous NHWC view; backward passes use random upstream gradients. probes.py says which
notebook functions are the student's in each part (the others are swapped for stand-ins there:
tables of values computed here for the test's own input, never a solution).

Inputs are drawn from the submission's seed (sub.seed) and the case: one notebook always gets the
same inputs, another notebook other ones. The formula tests use sizes >= 14 and the conv / pool
tests sizes <= 13, so no stand-in table of one test answers a question of another.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import expect_described, unchanged

# Tolerances.
# conv2d / im2col: the student and F.conv2d both compute float64 dot products of K = C*kh*kw <= 60
# terms, differing only in summation order. The rounding error of such a sum is at most
# K * 2.2e-16 * sum|terms|; TOL_CONV = 1e-10 is ~1e4 times above that bound (relative to
# sum|terms| <= K * max|x| * max|w|, the scale below) and far below what a wrong convolution gives
# (O(1) relative). im2col only moves values: it must be exact up to the same tiny slack.
TOL_CONV = 1e-10
# max-pooling: the forward pass selects input values (exact); the backward pass adds at most
# kh*kw*... <= 9 upstream values per input element, in any order: 1e-12 absolute on O(1) values.
TOL_POOL = 1e-12
# BasicBlock: two 3x3 convs (<= 54 terms), BatchNorm (a variance and a division) and the backward
# pass through both, all in float64 and with the same torch kernels the student's nn layers call;
# the only differences come from the order of additions, ~1e-14 on these O(1) values. 1e-8 leaves
# room for reductions done differently and is far below a structural mistake (O(0.1) and up).
TOL_BLOCK = 1e-8


def rng_for(sub, case):
    """The inputs of one case, from the submission's seed."""
    return np.random.default_rng([sub.seed, case])


def size_table(shape_hw, k, s, p):
    """The stand-in conv_output_size's table for this test's input: ((H, kh, sh, ph), H_out), ..."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(k), _pair(s), _pair(p)
    H, W = shape_hw
    return [[[H, kh, sh, ph], out_size(H, kh, sh, ph)], [[W, kw, sw, pw], out_size(W, kw, sw, pw)]]


def probe(sub, name, *args, what, **kwargs):
    # The failure is raised outside the except block: no chained StudentError traceback for pytest
    # to format (that costs CPU time for every failing test of an unfinished submission).
    __tracebackhide__ = True
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:      # say which call it was; the message names the cell and line
        message = f"{what}: {exc}"
    fail(message)


def _pair(v):
    return (int(v[0]), int(v[1])) if isinstance(v, (tuple, list)) else (int(v), int(v))


def _wire(v):
    return list(v) if isinstance(v, tuple) else v


# =========================================================================== conv_formulas (2)
formulas_part = pytest.mark.part("conv_formulas")


def out_size(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


def _formula_calls(sub, name, cases):
    __tracebackhide__ = True
    wire = [[[_wire(a) for a in args], {k: _wire(v) for k, v in kw.items()}] for args, kw in cases]
    return probe(sub, "formulas", name, wire, what=name)


def _call_text(name, args, kw):
    def show(v):
        return repr(tuple(v) if isinstance(v, list) else v)
    parts = [show(a) for a in args] + [f"{k}={show(v)}" for k, v in kw.items()]
    return f"{name}({', '.join(parts)})"


def _check_numbers(name, cases, got, want, hints=None):
    __tracebackhide__ = True
    for (args, kw), res, exp in zip(cases, got, want):
        call = _call_text(name, args, kw)
        if res["type"] == "error":
            fail(f"{call} raised {res['error']}")
        expect(res["type"] == "int", f"{call} returned a {res['type']}; it must return an int")
        if res["value"] != exp:
            hint = ""
            for label, fn in (hints or []):
                if fn(*args, **kw) == res["value"]:
                    hint = f" ({label})"
                    break
            fail(f"{call} returned {res['value']}, which is wrong{hint}")


# sizes along one axis: (size, kernel, stride, padding): the ResNet/VGG/AlexNet layers, then cases
# drawn from the submission's seed (sizes >= 14: divisible and not, stride 3+, padding > 1,
# kernel 1, kernel == padded input)
FIXED_SIZE_CASES = [(224, 7, 2, 3), (112, 3, 2, 1), (56, 1, 2, 0), (227, 11, 4, 0), (15, 2, 2, 0)]


SIZE_HINTS = [
    ("the padding is added on both sides: 2 * padding", lambda n, k, stride=1, padding=0: (n + padding - k) // stride + 1),
    ("the +1 is missing", lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride),
    ("the division must round down (floor)", lambda n, k, stride=1, padding=0: -(-(n + 2 * padding - k) // stride) + 1),
    ("the division must round down (floor)", lambda n, k, stride=1, padding=0: round((n + 2 * padding - k) / stride) + 1),
]


def size_cases(sub):
    rng = rng_for(sub, 1)
    cases = list(FIXED_SIZE_CASES)
    for _ in range(12):
        n, k, st, p = int(rng.integers(14, 120)), int(rng.integers(1, 12)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        cases.append((n, min(k, n + 2 * p), st, p))
    n, p = int(rng.integers(14, 40)), int(rng.integers(0, 3))
    cases.append((n, n + 2 * p, 1, p))                      # the kernel fills the padded input: 1
    n = int(rng.integers(14, 40))
    cases.append((n, 1, 1, 0))                              # 1x1 kernel, stride 1: n
    return cases


@formulas_part
def test_conv_output_size(sub):
    """conv_output_size: floor((size - kernel + 2 padding) / stride) + 1, default stride 1 and
    padding 0, and a ValueError when the kernel does not fit in the padded input."""
    chosen = size_cases(sub)
    cases = [((n, k), {"stride": s, "padding": p}) for n, k, s, p in chosen]
    want = [out_size(n, k, s, p) for n, k, s, p in chosen]
    # the reference agrees with PyTorch's shape inference (meta tensors: no computation)
    for (n, k, s, p), w in zip(chosen[:6], want):
        y = F.conv2d(torch.empty(1, 1, n, n, device="meta"), torch.empty(1, 1, k, k, device="meta"), stride=s, padding=p)
        assert y.shape[-1] == w, "reference output size disagrees with torch"
    got = _formula_calls(sub, "conv_output_size", cases)
    _check_numbers("conv_output_size", cases, got, want, SIZE_HINTS)

    # positional stride / padding, and the defaults stride=1, padding=0
    rng = rng_for(sub, 2)
    n1, n2 = int(rng.integers(14, 60)), int(rng.integers(14, 60))
    cases = [((n1, 4), {}), ((n2, 3, 2), {}), ((n2, 3, 2, 2), {})]
    want = [out_size(n1, 4), out_size(n2, 3, 2), out_size(n2, 3, 2, 2)]
    _check_numbers("conv_output_size", cases, _formula_calls(sub, "conv_output_size", cases), want, SIZE_HINTS)

    rng = rng_for(sub, 3)
    n = [int(v) for v in rng.integers(14, 40, size=5)]
    bad = [((n[0], n[0] + 1), {}), ((n[1], n[1] + 5), {"stride": 1, "padding": 2}),
           ((n[2], n[2] + 3), {"stride": 2, "padding": 1})]
    _check_refused(_formula_calls(sub, "conv_output_size", bad), bad)
    # exactly fitting kernels are fine (output 1)
    ok = [((n[3], n[3] + 4), {"stride": 1, "padding": 2}), ((n[4], n[4] + 2), {"stride": 3, "padding": 1})]
    _check_numbers("conv_output_size", ok, _formula_calls(sub, "conv_output_size", ok), [1, 1], SIZE_HINTS)


def _check_refused(got, bad):
    __tracebackhide__ = True
    for (args, kw), res in zip(bad, got):
        call = _call_text("conv_output_size", args, kw)
        expect(res["type"] == "error" and res["error"].startswith("ValueError"),
               f"{call}: the kernel does not fit in the padded input; expected a ValueError, "
               f"got {res.get('error') or res['value']!r}")


# (c_in, c_out, kernel_size, bias): VGG16, ResNet-18 (bias=False, 1x1 projections), non-square kernels
PARAM_CASES = [
    (3, 64, 3, True), (64, 64, 3, True), (256, 512, 3, True), (3, 64, 7, False), (64, 128, 1, False),
    (128, 128, 3, False), (5, 7, (3, 2), True), (6, 4, (1, 5), False), (1, 1, 1, True), (3, 96, 11, True),
]


@formulas_part
def test_conv2d_params(sub):
    """conv2d_params: kh*kw*c_in*c_out weights, plus c_out biases when bias=True (the default)."""
    cases = [((ci, co, _wire(k)), {"bias": b}) for ci, co, k, b in PARAM_CASES]
    want = []
    for ci, co, k, b in PARAM_CASES:
        layer = torch.nn.Conv2d(ci, co, k, bias=b, device="meta")
        want.append(sum(p.numel() for p in layer.parameters()))
    got = _formula_calls(sub, "conv2d_params", cases)
    _check_numbers("conv2d_params", cases, got, want, [
        ("bias=True adds one parameter per output channel", lambda ci, co, k, bias=True: _pair(k)[0] * _pair(k)[1] * ci * co),
        ("bias=False has no bias parameters", lambda ci, co, k, bias=True: _pair(k)[0] * _pair(k)[1] * ci * co + co),
    ])
    default = _formula_calls(sub, "conv2d_params", [((4, 6, 3), {})])
    _check_numbers("conv2d_params", [((4, 6, 3), {})], default, [4 * 6 * 9 + 6])


# (c_in, c_out, kernel_size, out_size)
FLOP_CASES = [
    (3, 64, 3, (224, 224)), (3, 64, 7, (112, 112)), (64, 128, 1, (28, 28)), (5, 7, (3, 2), (9, 4)),
    (16, 32, (1, 5), 11), (512, 512, 3, (14, 14)), (2, 3, 3, (1, 1)),
]


@formulas_part
def test_conv2d_flops(sub):
    """conv2d_flops: 2 * kh*kw*c_in*c_out*h_out*w_out (a multiply-add is 2 FLOPs, bias not counted)."""
    cases = [((ci, co, _wire(k), _wire(o)), {}) for ci, co, k, o in FLOP_CASES]
    want = [2 * _pair(k)[0] * _pair(k)[1] * ci * co * _pair(o)[0] * _pair(o)[1] for ci, co, k, o in FLOP_CASES]
    got = _formula_calls(sub, "conv2d_flops", cases)
    _check_numbers("conv2d_flops", cases, got, want, [
        ("a multiply-add counts as 2 FLOPs", lambda ci, co, k, o: _pair(k)[0] * _pair(k)[1] * ci * co * _pair(o)[0] * _pair(o)[1]),
    ])


# layers of VGG / ResNet / AlexNet and seeded ones: (c_in, c_out, kernel, stride, padding, bias, H, W)
FIXED_LAYERS = [(3, 64, 7, 2, 3, False, 224, 224), (64, 128, 3, 2, 1, False, 56, 56), (3, 96, 11, 4, 0, True, 227, 227),
                (256, 512, 3, 1, 1, True, 28, 28), (64, 128, 1, 2, 0, False, 56, 56)]


def layer_cases(sub):
    rng = rng_for(sub, 4)
    layers = list(FIXED_LAYERS)
    for _ in range(4):
        kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
        layers.append((int(rng.integers(1, 50)), int(rng.integers(1, 50)), (kh, kw), (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                       (int(rng.integers(0, 4)), int(rng.integers(0, 4))), bool(rng.integers(0, 2)),
                       int(rng.integers(14, 90)), int(rng.integers(14, 90))))
    n = int(rng.integers(14, 30))
    layers.append((4, 8, n + 5, 1, 2, True, n, n + 9))          # does not fit along H: nn.Conv2d refuses it
    return layers


@pytest.mark.part("conv_formulas", weight=3)
def test_layer_table(sub):
    """For every layer of a table (VGG, ResNet, AlexNet and random ones) the three formulas agree
    with nn.Conv2d: output size (or a refusal when the kernel does not fit), parameters, FLOPs."""
    layers = layer_cases(sub)
    size_calls, size_want, refused, param_calls, param_want, flop_calls, flop_want = [], [], [], [], [], [], []
    for ci, co, k, st, p, bias, H, W in layers:
        (kh, kw), (sh, sw), (ph, pw) = _pair(k), _pair(st), _pair(p)
        for n, kk, ss, pp in ((H, kh, sh, ph), (W, kw, sw, pw)):
            call = ((n, kk), {"stride": ss, "padding": pp})
            if n + 2 * pp < kk:
                refused.append(call)
            else:
                size_calls.append(call)
                size_want.append(out_size(n, kk, ss, pp))
        layer = torch.nn.Conv2d(ci, co, k, stride=st, padding=p, bias=bias, device="meta")
        param_calls.append(((ci, co, _wire(k)), {"bias": bias}))
        param_want.append(sum(q.numel() for q in layer.parameters()))
        if H + 2 * ph >= kh and W + 2 * pw >= kw:
            y = layer(torch.empty(1, ci, H, W, device="meta"))          # shapes only
            flop_calls.append(((ci, co, _wire(k), [int(y.shape[2]), int(y.shape[3])]), {}))
            flop_want.append(2 * kh * kw * ci * co * int(y.shape[2]) * int(y.shape[3]))
    _check_numbers("conv_output_size", size_calls, _formula_calls(sub, "conv_output_size", size_calls), size_want, SIZE_HINTS)
    _check_refused(_formula_calls(sub, "conv_output_size", refused), refused)
    _check_numbers("conv2d_params", param_calls, _formula_calls(sub, "conv2d_params", param_calls), param_want)
    _check_numbers("conv2d_flops", flop_calls, _formula_calls(sub, "conv2d_flops", flop_calls), flop_want)


# =========================================================================== conv2d (3)
conv_part = pytest.mark.part("conv2d")


def make_x(rng, shape, layout):
    """(array sent to the probe, NCHW float64 tensor the reference uses)."""
    n, c, h, w = shape
    if layout == "nhwc_view":
        a = rng.standard_normal((n, h, w, c))
        return a, torch.tensor(a).permute(0, 3, 1, 2)
    a = rng.standard_normal(shape)
    return a, torch.tensor(a)


def _describe_x(shape, layout):
    return f"x {tuple(shape)}" + (" (a non-contiguous view: NHWC storage permuted to NCHW)" if layout == "nhwc_view" else "")


def _check_tensor(got, what, want_shape=None):
    __tracebackhide__ = True
    expect(got["type"] == "torch.Tensor", f"{what} must return a torch.Tensor, got {got['type']}")
    expect(got.get("dtype") == "float64", f"{what} returned dtype {got.get('dtype')} for a float64 input; keep the input's dtype")
    expect_described(got, what=what, type="torch.Tensor")   # a subclass could answer for its own dtype
    if want_shape is not None and tuple(np.shape(got["value"])) != tuple(want_shape):
        fail(f"{what}: output shape {tuple(np.shape(got['value']))} but expected {tuple(want_shape)}")


IM2COL_CASES = [
    # (shape NCHW, kernel, stride, padding, layout)
    ((2, 3, 7, 9), 3, 1, 1, "nchw"),
    ((1, 2, 9, 7), (3, 2), 2, (1, 0), "nchw"),
    ((2, 3, 8, 11), (2, 3), (2, 1), (0, 2), "nchw"),
    ((1, 4, 6, 5), 3, 2, 0, "nhwc_view"),
    ((2, 2, 7, 6), (2, 3), (1, 2), (2, 1), "nhwc_view"),
]


@conv_part
@pytest.mark.parametrize("shape,k,s,p,layout", IM2COL_CASES,
                         ids=[f"{'x'.join(map(str, c[0]))}-k{c[1]}-s{c[2]}-p{c[3]}-{c[4]}" for c in IM2COL_CASES])
def test_im2col_matches_unfold(sub, shape, k, s, p, layout):
    """im2col equals F.unfold: rows in (c, i, j) order, columns in output order, any strides."""
    rng = rng_for(sub, sum(shape) * 100 + len(str((k, s, p, layout))))
    a, x = make_x(rng, shape, layout)
    what = f"im2col({_describe_x(shape, layout)}, kernel_size={k}, stride={s}, padding={p})"
    got = probe(sub, "im2col", a, _wire(k), _wire(s), _wire(p), layout, size_table(shape[2:], k, s, p), what=what)
    want = F.unfold(x, _pair(k), padding=_pair(p), stride=_pair(s)).numpy()
    _check_tensor(got, what, want.shape)
    assert_close(got["value"], want, atol=TOL_CONV * np.abs(a).max(), rtol=0, what=what)
    expect(unchanged(got["x_after"], x.numpy()), f"{what} changed its input x in place")


def conv_ref(x, w, b, s, p):
    return F.conv2d(x, torch.tensor(w), None if b is None else torch.tensor(b), stride=_pair(s), padding=_pair(p))


CONV_CASES = [
    # id, shape NCHW, C_out, kernel (kh, kw), stride, padding, bias, layout, scale of x, scale of w
    ("3x3-s1-p1", (2, 3, 7, 9), 4, (3, 3), 1, 1, True, "nchw", 1.0, 1.0),
    ("3x3-s2-p1-odd", (2, 3, 9, 7), 5, (3, 3), 2, 1, True, "nchw", 1.0, 1.0),
    ("3x2-s(2,1)-p(1,0)", (1, 2, 8, 11), 3, (3, 2), (2, 1), (1, 0), True, "nchw", 1.0, 1.0),
    ("1x1-s2-projection", (2, 4, 7, 7), 6, (1, 1), 2, 0, False, "nchw", 1.0, 1.0),
    ("nhwc-view-p0", (2, 3, 6, 7), 4, (3, 3), 1, 0, True, "nhwc_view", 1.0, 1.0),
    ("nhwc-view-2x3-s2-p(1,2)", (1, 5, 9, 6), 3, (2, 3), 2, (1, 2), False, "nhwc_view", 1.0, 1.0),
    ("large-magnitudes", (2, 3, 7, 8), 4, (3, 3), (1, 2), 1, True, "nchw", 1e4, 1e2),
    ("kernel-fills-padded-input", (1, 2, 3, 4), 2, (5, 6), 1, 1, True, "nchw", 1.0, 1.0),
    ("5x5-s3-p2", (1, 3, 11, 13), 2, (5, 5), 3, 2, False, "nchw", 1.0, 1.0),
]


@pytest.mark.part("conv2d", weight=2)
@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d_matches_torch(sub, case):
    """conv2d equals F.conv2d (cross-correlation) for strides, paddings, kernels, biases and views."""
    cid, shape, c_out, (kh, kw), s, p, has_bias, layout, sx, sw = case
    rng = rng_for(sub, sum(map(ord, cid)))
    a, x = make_x(rng, shape, layout)
    a, x = a * sx - 0.3 * sx, x * sx - 0.3 * sx        # not centred: large negative and positive values
    w = rng.standard_normal((c_out, shape[1], kh, kw)) * sw
    b = rng.standard_normal(c_out) * sw if has_bias else None
    what = (f"conv2d({_describe_x(shape, layout)}, weight {w.shape}, bias {'None' if b is None else b.shape}, "
            f"stride={s}, padding={p})")
    got = probe(sub, "conv2d", a, w, b, _wire(s), _wire(p), layout, size_table(shape[2:], (kh, kw), s, p), what=what)
    want = conv_ref(x, w, b, s, p).numpy()
    _check_tensor(got, what, want.shape)
    scale = shape[1] * kh * kw * np.abs(a).max() * np.abs(w).max() + (0 if b is None else np.abs(b).max())
    value = np.asarray(got["value"])
    if not np.allclose(value, want, rtol=0, atol=TOL_CONV * scale):
        flipped = conv_ref(x, w[:, :, ::-1, ::-1].copy(), b, s, p).numpy()
        if np.allclose(value, flipped, rtol=0, atol=TOL_CONV * scale):
            fail(f"{what}: your result is a TRUE convolution (kernel rotated by 180 degrees); "
                 f"F.conv2d computes a cross-correlation and does not flip the kernel")
    assert_close(value, want, atol=TOL_CONV * scale, rtol=0, what=what)
    expect(unchanged(got["x_after"], x.numpy()), f"{what} changed its input x in place")


@conv_part
def test_conv2d_small_example(sub):
    """conv2d on a small example does not flip the kernel."""
    # a tiny case whose inputs fit in the feedback: one channel, a 2x2 kernel that is not symmetric
    x = np.arange(20, dtype=np.float64).reshape(1, 1, 4, 5) - 7.0
    w = np.array([[[[1.0, 2.0], [0.0, -1.0]]]])
    what = "conv2d(x (1, 1, 4, 5), weight (1, 1, 2, 2), bias None, stride=1, padding=1)"
    got = probe(sub, "conv2d", x, w, None, 1, 1, "nchw", size_table((4, 5), 2, 1, 1), what=what)
    want = conv_ref(torch.tensor(x), w, None, 1, 1).numpy()
    _check_tensor(got, what, want.shape)
    flipped = conv_ref(torch.tensor(x), w[:, :, ::-1, ::-1].copy(), None, 1, 1).numpy()
    if np.allclose(got["value"], flipped) and not np.allclose(flipped, want):
        fail(f"{what}: your result is a TRUE convolution (kernel flipped); F.conv2d does not flip the kernel")
    # integers times small integers, |sums| < 100 in float64: exact whatever the order (1e-12 slack)
    assert_close(got["value"], want, atol=1e-12, rtol=0, what=what,
                 inputs={"x[0, 0]": x[0, 0, :2], "weight[0, 0]": w[0, 0]})


# =========================================================================== maxpool (2)
pool_part = pytest.mark.part("maxpool")


def pool_ref(x, k, s, G=None):
    """NumPy max-pooling; argmax = first maximum of a window in row-major order. (out, grad_x)."""
    kh, kw = _pair(k)
    sh, sw = _pair(k if s is None else s)
    n, c, h, w = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :ho, :wo]
    win = win.reshape(n, c, ho, wo, kh * kw)
    arg = win.argmax(axis=-1)                       # NumPy: first occurrence, like torch.argmax
    out = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    grad = None
    if G is not None:
        rows = np.arange(ho)[:, None] * sh + arg // kw
        cols = np.arange(wo)[None, :] * sw + arg % kw
        grad = np.zeros((n, c, h * w))
        flat = (rows * w + cols).reshape(n, c, -1)
        for i in range(n):
            for j in range(c):
                np.add.at(grad[i, j], flat[i, j], G[i, j].reshape(-1))
        grad = grad.reshape(x.shape)
    # cross-check with PyTorch (CPU max_pool2d picks the first maximum too)
    t = torch.tensor(x, requires_grad=True)
    t_out = F.max_pool2d(t, (kh, kw), (sh, sw))
    assert np.array_equal(t_out.detach().numpy(), out), "reference max-pool disagrees with torch"
    if G is not None:
        t_out.backward(torch.tensor(G))
        assert np.allclose(t.grad.numpy(), grad, atol=1e-12), "reference max-pool grad disagrees with torch"
    return out, grad


def pool_stand_ins(x, k, s):
    """(size table, im2col columns) of this test's own x, for the probe's stand-ins."""
    stride = k if s is None else s
    cols = F.unfold(x, _pair(k), stride=_pair(stride)).numpy()
    return size_table(tuple(x.shape[2:]), k, stride, 0), cols


def _pool_what(shape, k, s, layout, backward):
    call = f"maxpool2d_forward({_describe_x(shape, layout)}, kernel_size={k}" + ("" if s is None else f", stride={s}") + ")"
    return call + (" then maxpool2d_backward(G, cache) with a random G" if backward else "")


POOL_FORWARD_CASES = [
    # id, shape NCHW, kernel, stride, layout, kind of values
    ("2x2-default-stride-odd", (2, 3, 7, 9), 2, None, "nchw", "normal"),
    ("3x3-s2-overlap", (1, 2, 9, 8), 3, 2, "nchw", "normal"),
    ("3x2-s(1,2)", (2, 2, 8, 11), (3, 2), (1, 2), "nchw", "normal"),
    ("all-negative-large", (1, 3, 7, 6), 3, 2, "nchw", "negative"),
    ("nhwc-view", (2, 3, 6, 9), 2, 2, "nhwc_view", "normal"),
]


def pool_input(rng, shape, layout, kind):
    a, x = make_x(rng, shape, layout)
    if kind == "negative":
        a, x = -1e6 - 1e3 * np.abs(a), -1e6 - 1e3 * torch.abs(x)
    elif kind == "ties":
        a = np.floor(np.abs(a) * 1.2)                     # small integers: many equal maxima
        x = torch.tensor(a).permute(0, 3, 1, 2) if layout == "nhwc_view" else torch.tensor(a)
    elif kind == "constant":
        a, x = np.full_like(a, 0.5), torch.full_like(x, 0.5)
    return a, x


@pool_part
@pytest.mark.parametrize("case", POOL_FORWARD_CASES, ids=[c[0] for c in POOL_FORWARD_CASES])
def test_maxpool_forward(sub, case):
    """maxpool2d_forward equals F.max_pool2d (default stride, overlaps, large negatives, views)."""
    cid, shape, k, s, layout, kind = case
    rng = rng_for(sub, sum(map(ord, cid)) + 1000)
    a, x = pool_input(rng, shape, layout, kind)
    what = _pool_what(shape, k, s, layout, False)
    got = probe(sub, "maxpool", a, _wire(k), _wire(s), None, layout, *pool_stand_ins(x, k, s), what=what)
    want, _ = pool_ref(x.numpy(), k, s)
    _check_tensor(got["out"], what, want.shape)
    assert_close(got["out"]["value"], want, atol=TOL_POOL * np.abs(want).max(), rtol=0, what=f"{what}: out")
    expect(unchanged(got["x_after"], x.numpy()), f"{what} changed its input x in place")


POOL_BACKWARD_CASES = [
    ("2x2-s2-odd-edges", (2, 3, 7, 9), 2, 2, "nchw", "normal"),
    ("3x3-s2-overlap", (2, 3, 9, 8), 3, 2, "nchw", "normal"),
    ("3x3-s1-heavy-overlap", (1, 2, 6, 7), 3, 1, "nchw", "normal"),
    ("ties-3x3-s2", (2, 3, 8, 9), 3, 2, "nchw", "ties"),
    ("ties-2x2-s2", (1, 4, 6, 7), 2, None, "nchw", "ties"),
    ("constant-2x3-s1", (1, 2, 5, 7), (2, 3), 1, "nchw", "constant"),
    ("nhwc-view-2x3-s(2,1)", (2, 2, 7, 8), (2, 3), (2, 1), "nhwc_view", "normal"),
]


@pool_part
@pytest.mark.parametrize("case", POOL_BACKWARD_CASES, ids=[c[0] for c in POOL_BACKWARD_CASES])
def test_maxpool_backward(sub, case):
    """maxpool2d_backward: each output's gradient to its window's first maximum, summed over overlaps."""
    cid, shape, k, s, layout, kind = case
    rng = rng_for(sub, sum(map(ord, cid)) + 2000)
    a, x = pool_input(rng, shape, layout, kind)
    out_shape = pool_ref(x.numpy(), k, s)[0].shape
    G = rng.standard_normal(out_shape)               # random upstream gradient dL/dout
    what = _pool_what(shape, k, s, layout, True)
    got = probe(sub, "maxpool", a, _wire(k), _wire(s), G, layout, *pool_stand_ins(x, k, s), what=what)
    want_out, want_grad = pool_ref(x.numpy(), k, s, G)
    _check_tensor(got["out"], what, want_out.shape)
    assert_close(got["out"]["value"], want_out, atol=TOL_POOL * np.abs(want_out).max(), rtol=0, what=f"{what}: out")
    _check_tensor(got["grad"], f"{what}: maxpool2d_backward", x.shape)
    grad = np.asarray(got["grad"]["value"])
    # each output passes its gradient to exactly one input, so sum(dL/dx) == sum(dL/dout)
    # ~100 O(1) float64 numbers summed in two orders: ~1e-14 apart; 1e-9 is pure slack
    if not np.isclose(grad.sum(), G.sum(), rtol=0, atol=1e-9):
        fail(f"{what}: the entries of dL/dx do not add up to the sum of G = dL/dout. Every output element "
             f"must pass its gradient to exactly ONE input element (with ties: the first maximum of its "
             f"window in row-major order), and where windows overlap the contributions must be ADDED")
    assert_close(grad, want_grad, atol=TOL_POOL, rtol=TOL_POOL, what=f"{what}: dL/dx")
    expect(unchanged(got["x_after"], x.numpy()) and unchanged(got["G_after"], G),
           f"{what} changed its input x or G in place")


# =========================================================================== resnet_block (3)
block_part = pytest.mark.part("resnet_block")


def block_layout(cin, planes, stride):
    """state_dict key -> shape of the notebook's BasicBlock."""
    def bn(prefix, c):
        return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}
    keys = {"conv1.weight": (planes, cin, 3, 3), **bn("bn1", planes),
            "conv2.weight": (planes, planes, 3, 3), **bn("bn2", planes)}
    if stride != 1 or cin != planes:
        keys.update({"shortcut.0.weight": (planes, cin, 1, 1), **bn("shortcut.1", planes)})
    return keys


def random_state(rng, layout):
    state = {}
    for key, shape in layout.items():
        if key.endswith("num_batches_tracked"):
            state[key] = 0                                  # 0-d: sent as a Python int
        elif key.endswith("conv1.weight") or key.endswith("conv2.weight") or key.startswith("shortcut.0"):
            fan_in = int(np.prod(shape[1:]))
            state[key] = rng.standard_normal(shape) / np.sqrt(fan_in)
        elif key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 2.0, shape)
        elif key.endswith("running_mean") or key.endswith(".bias"):
            state[key] = 0.5 * rng.standard_normal(shape)
        else:                                               # BN weight (gamma)
            state[key] = rng.uniform(0.5, 1.5, shape)
    return state


def block_ref(state, x, stride, train, G=None):
    """Functional BasicBlock in float64: (out, dL/dx, {param: grad}, {running stat: value})."""
    T = {k: torch.tensor(np.array(v, dtype=np.float64)) for k, v in state.items() if not k.endswith("tracked")}
    params = {k: v.requires_grad_() for k, v in T.items() if "running" not in k}
    running = {k: v.clone() for k, v in T.items() if "running" in k}
    xt = torch.tensor(x, requires_grad=True)

    def bn(h, p):
        return F.batch_norm(h, running[f"{p}.running_mean"], running[f"{p}.running_var"], params[f"{p}.weight"],
                            params[f"{p}.bias"], training=train, momentum=0.1, eps=1e-5)

    out = F.relu(bn(F.conv2d(xt, params["conv1.weight"], stride=stride, padding=1), "bn1"))
    out = bn(F.conv2d(out, params["conv2.weight"], padding=1), "bn2")
    if "shortcut.0.weight" in params:
        short = bn(F.conv2d(xt, params["shortcut.0.weight"], stride=stride), "shortcut.1")
    else:
        short = xt
    out = F.relu(out + short)
    grads = None
    if G is not None:
        out.backward(torch.tensor(G))
        grads = (xt.grad.numpy(), {k: v.grad.numpy() for k, v in params.items()})
    return out.detach().numpy(), grads, {k: v.numpy() for k, v in running.items()}


def _block_what(cin, planes, stride, shape, train):
    return f"BasicBlock({cin}, {planes}, stride={stride}) in {'train' if train else 'eval'} mode on x {shape}"


def run_block(sub, cin, planes, stride, shape, train, seed, backward):
    __tracebackhide__ = True
    rng = rng_for(sub, seed)
    layout = block_layout(cin, planes, stride)
    state = random_state(rng, layout)
    x = rng.standard_normal(shape) - 0.2
    ho = (shape[2] - 1) // stride + 1
    wo = (shape[3] - 1) // stride + 1
    G = rng.standard_normal((shape[0], planes, ho, wo)) if backward else None
    what = _block_what(cin, planes, stride, shape, train)
    got = probe(sub, "basic_block", cin, planes, stride, state, x, train, G, what=what)
    expect(got["is_module"], f"BasicBlock({cin}, {planes}, stride={stride}) is a {got.get('type')}, not an nn.Module")
    if not got["layout_ok"]:
        have = {k: tuple(v) for k, v in got["keys"].items()}
        missing = sorted(set(layout) - set(have))
        extra = sorted(set(have) - set(layout))
        wrong = sorted(k for k in set(have) & set(layout) if have[k] != layout[k])
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        if wrong:
            parts.append("wrong shape " + ", ".join(f"{k} {have[k]} (expected {layout[k]})" for k in wrong))
        hint = ""
        if any(k.startswith("shortcut.") for k in missing) and cin == planes:
            hint = " (stride != 1 needs a projection shortcut even when the channel counts match)"
        elif any(k.startswith("shortcut.") for k in extra):
            hint = " (stride 1 and equal channels: the shortcut is the identity, an empty nn.Sequential())"
        fail(f"BasicBlock({cin}, {planes}, stride={stride}): state_dict does not have the notebook's layout: "
             f"{'; '.join(parts)}{hint}")
    want_out, want_grads, want_running = block_ref(state, x, stride, train, G)
    return got, what, want_out, want_grads, want_running


BLOCK_CASES = [
    # (in_planes, planes, stride, x shape)
    (5, 5, 1, (2, 5, 7, 9)),
    (4, 6, 1, (2, 4, 6, 5)),
    (5, 5, 2, (2, 5, 9, 7)),
    (3, 6, 2, (3, 3, 8, 11)),
]


@block_part
@pytest.mark.parametrize("cin,planes,stride,shape", BLOCK_CASES,
                         ids=[f"{c}-{p}-s{s}" for c, p, s, _ in BLOCK_CASES])
def test_basic_block_eval(sub, cin, planes, stride, shape):
    """BasicBlock in eval mode equals the block's formula (identity and projection shortcuts)."""
    got, what, want_out, _, _ = run_block(sub, cin, planes, stride, shape, False, 500 + cin * 10 + planes + stride, False)
    _check_tensor(got["out"], what, want_out.shape)
    assert_close(got["out"]["value"], want_out, atol=TOL_BLOCK, rtol=TOL_BLOCK, what=f"{what}: output")


@block_part
@pytest.mark.parametrize("cin,planes,stride,shape", [BLOCK_CASES[0], BLOCK_CASES[2], BLOCK_CASES[3]],
                         ids=["5-5-s1", "5-5-s2", "3-6-s2"])
def test_basic_block_train_backward(sub, cin, planes, stride, shape):
    """BasicBlock in train mode: output, gradients of x and every weight, running statistics."""
    got, what, want_out, (want_dx, want_dparams), want_running = run_block(
        sub, cin, planes, stride, shape, True, 700 + cin * 10 + planes + stride, True)
    what = f"{what}, then backward with a random G"
    _check_tensor(got["out"], what, want_out.shape)
    assert_close(got["out"]["value"], want_out, atol=TOL_BLOCK, rtol=TOL_BLOCK, what=f"{what}: output")
    if got.get("grad_x") is None:
        fail(f"{what}: no gradient reached x (is the output computed from x with torch operations?)")
    assert_close(got["grad_x"], want_dx, atol=TOL_BLOCK, rtol=TOL_BLOCK, what=f"{what}: dL/dx")
    for name, want in want_dparams.items():
        g = got["param_grads"].get(name)
        if g is None:
            fail(f"{what}: parameter {name} received no gradient")
        assert_close(g, want, atol=TOL_BLOCK, rtol=TOL_BLOCK, what=f"{what}: gradient of {name}")
    for name, want in want_running.items():
        assert_close(got["running"][name], want, atol=TOL_BLOCK, rtol=TOL_BLOCK,
                     what=f"{what}: {name} after one training step (BatchNorm2d defaults: momentum 0.1)")
