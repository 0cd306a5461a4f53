"""Hidden suite of 03_layers_mlp, parts linear, layernorm, embedding, dropout.

Every layer runs in the sandbox on seeded inputs with a RANDOM upstream gradient G; this file
computes what forward and backward must give with PyTorch in float64 (autograd of sum(G * y)).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Student and reference compute the same formulas in float64; they differ only in summation order
# (matmul, means over <= 11 values), ~1e-15 relative. The inputs below are O(1) to O(100) and the
# LayerNorm gradients reach O(300) for the tiny-variance rows (1/sqrt(var + eps)), so 1e-8 absolute
# plus 1e-8 relative is far above round-off and far below any wrong rule (errors >= 1e-4 here:
# eps outside the sqrt changes 1/sqrt(var + eps) by 5e-6 relative even for var ~ 1).
ATOL, RTOL = 1e-8, 1e-8


def rng_for(sub, case):
    """Inputs differ per submission (sub.seed) and per case, and are the same on a regrade."""
    return np.random.default_rng([sub.seed, case])


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _run(sub, what, *args, **kwargs):
    try:
        got = sub.probe(*args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")
    # "x untouched" is decided here: the probe sends x back after forward, we compare with what
    # was sent (as the probe passed it: transposed when axes are given). Never in the sandbox.
    x_at, axes_at = {"layer_run": (4, 6), "dropout_run": (3, 7)}.get(args[0], (None, None))
    if x_at is not None:
        axes = args[axes_at] if len(args) > axes_at else None
        sent = np.asarray(args[x_at]) if axes is None else np.transpose(np.asarray(args[x_at]), axes)
        got["x_untouched"] = unchanged(got.get("x_after"), sent)
    return got


def _check_grads(got, expected, what, inputs):
    grads = got["grads"]
    if isinstance(grads, str):
        fail(f"{what}: layer.grads is {grads}, not a dict")
    for name, want in expected.items():
        value = grads.get(name)
        if value is None:
            fail(f"{what}: layer.grads['{name}'] is missing after backward")
        if isinstance(value, str):
            fail(f"{what}: layer.grads['{name}'] is {value}, not an array")
        assert_close(value, want, atol=ATOL, rtol=RTOL, what=f"{what}: grads['{name}']", inputs=inputs)


# =========================================================================== linear (1)
LINEAR_CASES = [
    # x shape (as the layer sees it), in, out, transpose axes (None: contiguous)
    ((5, 7), 7, 3, None),
    ((2, 3, 5), 5, 4, None),
    ((1, 1), 1, 1, None),
    ((4, 9, 3), 3, 6, (1, 0, 2)),     # a non-contiguous (T, B, d) view of a (B, T, d) array
    ((3, 5), 5, 2, "twice"),          # backward called twice: grads hold the last call's values
]


@pytest.mark.part("linear")
@pytest.mark.parametrize("shape,d_in,d_out,axes", LINEAR_CASES,
                         ids=[f"{s}-{i}to{o}{'-' + ('twice' if a == 'twice' else 'strided') if a else ''}"
                              for s, i, o, a in LINEAR_CASES])
def test_linear(sub, shape, d_in, d_out, axes):
    """Linear의 출력, dL/dx, grads가 모든 입력(3차원, 연속적이지 않은 배열)에서 맞고 x를 바꾸지 않는다"""
    rng = rng_for(sub, 100 + len(shape) * 10 + d_in + d_out)
    G_first = None
    if axes == "twice":
        axes, G_first = None, rng.standard_normal(shape[:-1] + (d_out,))
    if axes is None:
        stored = rng.standard_normal(shape)
        x = stored
    else:
        inverse = tuple(np.argsort(axes))
        stored = rng.standard_normal(tuple(shape[i] for i in inverse))
        x = np.transpose(stored, axes)
    W = rng.standard_normal((d_in, d_out))
    b = rng.standard_normal(d_out)
    G = rng.standard_normal(shape[:-1] + (d_out,))
    what = f"Linear({d_in}, {d_out}) on x of shape {shape}" + (" (a non-contiguous view)" if axes else "")
    if G_first is not None:
        what += ", after an earlier forward/backward on the same layer (grads are this call's, not a sum)"
    got = _run(sub, what, "layer_run", "Linear", {"in_features": d_in, "out_features": d_out},
               {"W": W, "b": b}, stored, G, list(axes) if axes else None, "train", G_first)

    tx, tW, tb = _t(x, True), _t(W, True), _t(b, True)
    y = tx @ tW + tb
    y.backward(_t(G))
    inputs = {"x": x, "W": W, "b": b, "G = dL/dy": G}
    expect(got["x_untouched"], f"{what}: forward must not modify its input x")
    assert_close(got["out"], y.detach().numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: forward output", inputs=inputs)
    assert_close(got["dx"], tx.grad.numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: backward(G) return value dL/dx",
                 inputs=inputs)
    _check_grads(got, {"W": tW.grad.numpy(), "b": tb.grad.numpy()}, what, inputs)


# =========================================================================== layernorm (1)
LN_CASES = [
    # name, x shape, eps, how x is made
    ("2d", (5, 7), 1e-5, "normal"),
    ("3d-large", (2, 3, 7), 1e-5, "large"),        # mean 100, std 10
    ("tiny-var", (4, 9), 1e-5, "tiny"),            # std 1e-3: var = 1e-6 is below eps
    ("eps1e-3", (3, 5), 1e-3, "tiny"),
    ("offset", (3, 11), 1e-5, "offset"),           # mean -3e5, std 0.5: one-pass E[x^2]-mu^2 cancels
    ("strided", (3, 4, 6), 1e-5, "normal"),
]


def _ln_input(rng, shape, how):
    x = rng.standard_normal(shape)
    if how == "large":
        return 100.0 + 10.0 * x
    if how == "tiny":
        return 1.0 + 1e-3 * x
    if how == "offset":
        return -3e5 + 0.5 * x
    return x


@pytest.mark.part("layernorm")
@pytest.mark.parametrize("name,shape,eps,how", LN_CASES, ids=[c[0] for c in LN_CASES])
def test_layernorm(sub, name, shape, eps, how):
    """LayerNorm의 출력, dL/dx, grads가 모든 입력(큰 값, 작은 분산)에서 맞고 x를 바꾸지 않는다"""
    rng = rng_for(sub, 200 + len(name))
    axes = None
    if name == "strided":                       # a (B, T, D) view of a (T, B, D) array
        axes = [1, 0, 2]
        stored = _ln_input(rng, (shape[1], shape[0], shape[2]), how)
        x = np.transpose(stored, axes)
    else:
        stored = x = _ln_input(rng, shape, how)
    d = shape[-1]
    gamma = 1.0 + 0.5 * rng.standard_normal(d)
    beta = rng.standard_normal(d)
    G = rng.standard_normal(shape)
    what = f"LayerNorm({d}, eps={eps:g}) on x of shape {shape}" + (
        {"large": " (mean 100, std 10)", "tiny": " (std 1e-3: variance below eps)",
         "offset": " (mean -3e5, std 0.5)"}.get(how, "")) + (" (a non-contiguous view)" if axes else "")
    got = _run(sub, what, "layer_run", "LayerNorm", {"dim": d, "eps": eps}, {"gamma": gamma, "beta": beta},
               stored, G, axes)

    tx, tg, tb = _t(x, True), _t(gamma, True), _t(beta, True)
    y = F.layer_norm(tx, (d,), tg, tb, eps)
    y.backward(_t(G))
    inputs = {"x": x, "gamma": gamma, "beta": beta, "G = dL/dy": G}
    expect(got["x_untouched"], f"{what}: forward must not modify its input x")
    # a relative check only: with the offset -3e5 the tolerance must not scale with |x|
    assert_close(got["out"], y.detach().numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: forward output", inputs=inputs)
    assert_close(got["dx"], tx.grad.numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: backward(G) return value dL/dx",
                 inputs=inputs)
    _check_grads(got, {"gamma": tg.grad.numpy(), "beta": tb.grad.numpy()}, what, inputs)


# =========================================================================== embedding (1)
EMB_CASES = [
    # name, ids shape, V, D
    ("1d-repeats", (11,), 7, 5),
    ("2d", (3, 5), 13, 4),
    ("2d-strided", (5, 3), 6, 3),
]


@pytest.mark.part("embedding")
@pytest.mark.parametrize("name,shape,V,D", EMB_CASES, ids=[c[0] for c in EMB_CASES])
def test_embedding(sub, name, shape, V, D):
    """Embedding의 출력과 grads['W'](중복 id 누적)가 맞다"""
    rng = rng_for(sub, 300 + V)
    axes = None
    if name == "2d-strided":
        axes = [1, 0]
        stored = rng.integers(0, V, size=(shape[1], shape[0]))
        ids = stored.T
    else:
        stored = ids = rng.integers(0, V, size=shape)
    if name == "1d-repeats":                 # one id five times, two ids never
        ids = rng.permutation(V)[[0, 1, 0, 6, 0, 2, 1, 0, 5, 2, 0]]
        stored = ids
    W = rng.standard_normal((V, D))
    G = rng.standard_normal(ids.shape + (D,))
    what = f"Embedding({V}, {D}) on ids of shape {ids.shape}" + (" (a non-contiguous view)" if axes else "")
    got = _run(sub, what, "layer_run", "Embedding", {"num_embeddings": V, "dim": D}, {"W": W}, stored, G, axes)

    tW = _t(W, True)
    y = F.embedding(torch.tensor(ids), tW)
    y.backward(_t(G))
    inputs = {"ids": ids, "G = dL/dy": G}
    expect(got["x_untouched"], f"{what}: forward must not modify the ids")
    assert_close(got["out"], y.detach().numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: forward output", inputs=inputs)
    _check_grads(got, {"W": tW.grad.numpy()}, what + " (repeated ids must add up)", inputs)


# =========================================================================== dropout (1)
# Dropout: a kept element is one multiplication x * (1 / (1 - p)) or a division x / (1 - p): the
# two differ by at most ~2 ulp (~4e-16 relative), so 1e-12 is pure round-off slack; a missing
# 1/(1-p) is off by a factor >= 1.4. In eval mode (and for p = 0) the values must come back
# unchanged: exact (atol 0) in eval, 1e-15 for p = 0 where x * 1.0 / 1.0 is exact anyway.
DROP_TOL = 1e-12


def _away_from_zero(rng, shape):
    x = rng.standard_normal(shape)
    return np.sign(x + (x == 0)) * (0.1 + np.abs(x))     # |x| >= 0.1: a zero output means "dropped"


DROPOUT_TRAIN = [(0.3, (101, 99), None), (0.75, (3, 37, 41), None), (0.5, (1, 2001), None),
                 (0.4, (9, 31, 5), [2, 0, 1])]


@pytest.mark.part("dropout")
@pytest.mark.parametrize("p,shape,axes", DROPOUT_TRAIN,
                         ids=[f"p{p}-{s}{'-strided' if a else ''}" for p, s, a in DROPOUT_TRAIN])
def test_dropout_train(sub, p, shape, axes):
    """학습 모드 Dropout의 mask가 rng로 정해진 그대로이고, 1/(1-p)로 키우며, backward가 같은 mask를 쓴다"""
    # One check: in training mode the mask is exactly the notebook's recipe, u = rng.random(x.shape)
    # and keep u >= p, element by element (also for a non-contiguous x), a fresh one every call,
    # scaled by 1 / (1 - p); backward uses the mask of the last call.
    rng = rng_for(sub, 400 + int(p * 100))
    stored = _away_from_zero(rng, shape)
    G_stored = rng.standard_normal(shape)
    x = stored if axes is None else np.transpose(stored, axes)
    G = G_stored if axes is None else np.transpose(G_stored, axes)
    seed = int(rng.integers(2**31))
    what = f"Dropout({p}) in training mode on x of shape {x.shape}" + (" (a non-contiguous view)" if axes else "")
    got = _run(sub, what, "dropout_run", p, seed, stored, G_stored, "train", 2, axes)
    expect(got["x_untouched"], f"{what}: forward must not modify its input x")
    out, out2 = got["outs"]
    for info in got["infos"]:
        expect(info["type"] == "numpy.ndarray" and info["dtype"] == "float64" and info["shape"] == list(x.shape),
               f"{what}: forward must return a float64 np.ndarray of shape {x.shape}, got {info['type']} "
               f"of dtype {info['dtype']} and shape {info['shape']}")
    kept = out != 0
    n = x.size
    # the fraction dropped is Binomial(n, p) / n: 6 standard deviations (~2e-9 two-sided) of slack
    sd = np.sqrt(p * (1 - p) / n)
    dropped = 1.0 - kept.mean()
    expect(abs(dropped - p) <= 6 * sd,
           f"{what}: {dropped:.3f} of the elements were zeroed; expected about p = {p} (each dropped with probability p)")
    assert_close(out[kept], x[kept] / (1 - p), atol=DROP_TOL, rtol=DROP_TOL,
                 what=f"{what}: the kept elements (must be x / (1 - p), inverted dropout)")
    expect(not np.array_equal(out2 != 0, kept), f"{what}: two forward calls used the same mask; draw a new mask every call")
    draws = np.random.default_rng(seed)
    for call, value in enumerate((out, out2), start=1):
        want_keep = draws.random(x.shape) >= p
        mismatch = int(np.sum((value != 0) != want_keep))
        expect(mismatch == 0,
               f"{what}: call {call}: the mask differs from u = self.rng.random(x.shape), keep u >= p in "
               f"{mismatch} of {n} places (draw one number per element from the layer's rng, in x's shape)")
    # backward belongs to the LAST forward call
    kept2 = out2 != 0
    assert_close(got["dx"], np.where(kept2, G / (1 - p), 0.0), atol=DROP_TOL, rtol=DROP_TOL,
                 what=f"{what}: backward(G) (must use the mask of the last forward call, scaled by 1/(1-p))")


@pytest.mark.part("dropout")
@pytest.mark.parametrize("p,mode", [(0.3, "eval"), (0.9, "eval"), (0.0, "train")],
                         ids=["p0.3-eval", "p0.9-eval", "p0-train"])
def test_dropout_identity(sub, p, mode):
    """평가 모드(와 p = 0)의 Dropout은 x와 G를 그대로 돌려준다"""
    # One check: after .eval() (and for p = 0) forward returns x and backward returns G, exactly
    rng = rng_for(sub, 450 + int(p * 10))
    x = _away_from_zero(rng, (7, 13))
    G = rng.standard_normal((7, 13))
    what = f"Dropout({p}) after .eval()" if mode == "eval" else f"Dropout({p}) in training mode"
    got = _run(sub, what, "dropout_run", p, int(rng.integers(2**31)), x, G, mode, 1)
    # x * 1.0 / 1.0 is exact in IEEE arithmetic: no tolerance at all
    assert_close(got["outs"][0], x, atol=0.0, what=f"{what}: forward (must return x unchanged)")
    assert_close(got["dx"], G, atol=0.0, what=f"{what}: backward(G) (must return G unchanged)")
