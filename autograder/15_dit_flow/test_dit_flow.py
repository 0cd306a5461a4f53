"""Hidden suite of 15_dit_flow.

Parts: patchify (3), adaln_zero (3), rectified_flow (2), euler_sampler (2).

Every input is a seeded NumPy array with odd sizes (patch grids 3 x 5 x 7, channels 3 and 5, B != N
and B == N); the probes build torch tensors from it in the dtype and memory layout named here
(contiguous, a channels-last tensor seen through permute, every other element of a longer tensor,
a transposed view). float32 inputs are drawn in float64 and rounded to float32 here, so the float64
references below see exactly the values the student got.

Expected values come from the float64 references in this file: a NumPy patchify written from the
notebook's two order conventions (cross-checked during development against torch.nn.Conv3d with
kernel = stride = patch, whose weight flattening defines the in-token order), a functional float64
torch DiT block (autograd gives the expected gradients), the straight-path formulas, and a NumPy
Euler integrator over the same analytic velocity fields the probes hand to the student's sampler.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# --------------------------------------------------------------------------- tolerances
# patchify / unpatchify only move values (reshape / permute): any correct implementation returns
# the very same floats, so the comparison is exact (atol 0). Gradients of a pure permutation are a
# permutation of the upstream gradient: exact too.
EXACT = dict(atol=0.0, rtol=0.0)
# float64 arithmetic that differs from the reference only in the order of operations (LayerNorm,
# softmax, GELU, small matmuls on O(1) values, interpolation, the loss): ~1e-14 measured;
# 1e-9 leaves 5 orders of margin and is far below any real mistake (O(1e-2) and up).
F64 = dict(atol=1e-9, rtol=1e-9)
# float32 block / interpolation / Euler on O(1) values against the float64 reference: measured max
# error 2e-6 (block) and 4e-7 (Euler, 5 steps); 1e-4 gives > 20x margin and still catches every
# mutant (their errors are O(0.1) and up).
F32 = dict(atol=1e-4, rtol=1e-4)
# Euler in float64: the time grid may legitimately be built in float32 (torch.linspace's default
# dtype), which rounds t_k and dt by ~6e-8 and moves x by up to 1.3e-7 (measured with such a
# sampler); 1e-6 gives ~8x margin. Wrong samplers (step direction, dt, times) are off by O(0.1).
EULER64 = dict(atol=1e-6, rtol=1e-6)
# The identity at init: x + 0 * branch is exactly x for any finite branch; 1e-12 only allows an
# implementation that adds a zero in a different order. A block that is not the identity moves x by
# O(0.1) or more.
IDENTITY = dict(atol=1e-12, rtol=0.0)


def tol(dtype):
    return F32 if dtype == "float32" else F64


# --------------------------------------------------------------------------- inputs
def as_dtype(a, dtype):
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


def randn(rng, shape, dtype="float64", scale=1.0, offset=0.0):
    return as_dtype(offset + scale * rng.standard_normal(shape), dtype)


def spec(value, dtype="float64", layout="contiguous"):
    return {"value": np.asarray(value, dtype=np.float64), "dtype": dtype, "layout": layout}


LAYOUT_WORDS = {"contiguous": "", "channels_last": ", a channels-last tensor seen through permute (non-contiguous)",
                "strided": ", every other element of a longer tensor (non-contiguous)",
                "transposed": ", a transposed view (non-contiguous)"}


def describe(s):
    return f"{s['dtype']} {np.shape(s['value'])}{LAYOUT_WORDS[s['layout']]}"


def joined(inputs):
    return "; ".join(f"{name}: {text}" for name, text in inputs.items())


def probe(sub, name, *args, what, **kwargs):
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def untouched(report, *sent) -> bool:
    """Whether every input (spec) still holds what the judge sent, decided here from what the
    probe read back after the call with describe() (in the sandbox torch.equal or clone may be patched)."""
    after = report.get("inputs_after") or []
    return len(after) == len(sent) and all(unchanged(a, s["value"]) for a, s in zip(after, sent))


def readable_tensor(info, what):
    if info is None:
        fail(f"{what}: nothing usable came back")
    if info["kind"] != "torch":
        hint = " (a NumPy array: keep the result a torch tensor)" if info["kind"].startswith("numpy") else ""
        fail(f"{what} must be a torch.Tensor, got {info['kind']}{hint}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    return np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])


def check_value(info, expected, what, tolerance, inputs=None):
    got = readable_tensor(info, what)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}" + (f"; {joined(inputs)}" if inputs else ""))
    assert_close(got, expected, what=what, inputs=inputs, **tolerance)
    return got


def check_dtype(info, dtype, what):
    expect(info["dtype"] == dtype, f"{what}: the result has dtype {info['dtype']}; it must keep the input's dtype {dtype}")


# =========================================================================== patchify (3)
def ref_patchify(x, p):
    B, C, T, H, W = x.shape
    pt, ph, pw = p
    nt, nh, nw = T // pt, H // ph, W // pw
    return (x.reshape(B, C, nt, pt, nh, ph, nw, pw).transpose(0, 2, 4, 6, 1, 3, 5, 7)
            .reshape(B, nt * nh * nw, C * pt * ph * pw))


def ref_unpatchify(tokens, p, size):
    B, N, D = tokens.shape
    pt, ph, pw = p
    T, H, W = size
    nt, nh, nw = T // pt, H // ph, W // pw
    C = D // (pt * ph * pw)
    return tokens.reshape(B, nt, nh, nw, C, pt, ph, pw).transpose(0, 4, 1, 5, 2, 6, 3, 7).reshape(B, C, T, H, W)


def patch_of(n, grid):
    nt, nh, nw = grid
    return (n // (nh * nw), (n // nw) % nh, n % nw)


def token_mismatch(got, expected):
    """Where a token tensor of the right shape goes wrong: None (equal), ("mixed", n), ("moved", n, m)
    (token n holds the values of reference token m) or ("inner",) (right patches, wrong in-token order)."""
    if np.array_equal(got, expected):
        return None
    key = {tuple(np.sort(expected[0, m])): m for m in range(expected.shape[1])}
    for n in range(got.shape[1]):
        m = key.get(tuple(np.sort(got[0, n])))
        if m is None:
            return ("mixed", n)
        if m != n:
            return ("moved", n, m)
    return ("inner",)


MIXED_HINT = "a reshape without the permute that brings the patch indices first?"
INNER_HINT = ("the feature order must be (c, a, b, d): feature ((c * pt + a) * ph + b) * pw + d, "
              "as Conv3d flattens its kernel")


def explain_patchify(got, expected, grid, what):
    found = token_mismatch(got, expected)
    if found is None:
        return
    if found[0] == "mixed":
        fail(f"{what}: token {found[1]} does not hold the values of any single patch ({MIXED_HINT})")
    if found[0] == "moved":
        n, m = found[1:]
        fail(f"{what}: token {n} holds patch (i_t, i_h, i_w) = {patch_of(m, grid)}, but in (t, h, w) raster "
             f"order (w fastest) token {n} is patch {patch_of(n, grid)}; the token order is wrong")
    fail(f"{what}: every token holds the values of the right patch, but in the wrong order inside the token; "
         + INNER_HINT)


def explain_unpatchify(got_video, tokens, p, grid, what):
    """Read the student's video back with the reference patchify and say where the tokens landed."""
    found = token_mismatch(ref_patchify(got_video, p), tokens)
    if found is None:
        return
    tail = "; unpatchify must be the exact inverse of patchify, with the notebook's two orders"
    if found[0] == "mixed":
        fail(f"{what}: patch {patch_of(found[1], grid)} of the video is filled with values from several tokens "
             f"({MIXED_HINT}){tail}")
    if found[0] == "moved":
        n, m = found[1:]
        fail(f"{what}: token {m} was written to patch (i_t, i_h, i_w) = {patch_of(n, grid)}, but in (t, h, w) "
             f"raster order (w fastest) token {m} is patch {patch_of(m, grid)}{tail}")
    fail(f"{what}: every token was written to the right patch, but its values are placed in the wrong order "
         f"inside the patch; {INNER_HINT}{tail}")


# name: (shape (B, C, T, H, W), patch, dtype, layout)
PATCH_CASES = {
    "grid3x5x7_C3_p222": ((2, 3, 6, 10, 14), (2, 2, 2), "float64", "contiguous"),
    "grid3x5x7_C5_p111": ((1, 5, 3, 5, 7), (1, 1, 1), "float64", "contiguous"),
    "grid1x3x1_C1_p435": ((3, 1, 4, 9, 5), (4, 3, 5), "float64", "contiguous"),
    "grid3x2x2_C2_p125_float32": ((2, 2, 3, 4, 10), (1, 2, 5), "float32", "contiguous"),
    "grid1x3x5_C3_p521_channels_last": ((1, 3, 5, 6, 5), (5, 2, 1), "float64", "channels_last"),
    "grid3x3x5_C3_p123_strided": ((2, 3, 3, 6, 15), (1, 2, 3), "float64", "strided"),
}


def patch_input(seed, case):
    shape, p, dtype, layout = PATCH_CASES[case]
    rng = np.random.default_rng([seed, 1500 + sum(shape) * 7 + sum(p)])
    return spec(randn(rng, shape, dtype), dtype, layout), p


@pytest.mark.part("patchify")
@pytest.mark.parametrize("case", list(PATCH_CASES))
def test_patchify_matches_reference(sub, case):
    """patchify: 토큰 순서 (t, h, w)와 토큰 안의 특성 순서 (C, pt, ph, pw)"""
    x, p = patch_input(sub.seed, case)
    what = f"patchify(x, patch_size={p}) [{case}]"
    report = probe(sub, "patchify", x, p, what=what)
    expected = ref_patchify(x["value"], p)
    got = readable_tensor(report["out"], what)
    if got.shape != expected.shape:
        B, C, T, H, W = x["value"].shape
        fail(f"{what}: shape {got.shape} but expected (B, N, C*pt*ph*pw) = {expected.shape}; x: {describe(x)}")
    T, H, W = x["value"].shape[2:]
    explain_patchify(got, expected, (T // p[0], H // p[1], W // p[2]), what)
    check_dtype(report["out"], x["dtype"], what)
    expect(untouched(report, x), f"{what} changed its input in place")


@pytest.mark.part("patchify")
@pytest.mark.parametrize("case", ["grid3x5x7_C3_p222", "grid1x3x5_C3_p521_channels_last"])
def test_patchify_gradient(sub, case):
    """patchify: gradient가 입력으로 흐른다 (무작위 upstream gradient)"""
    x, p = patch_input(sub.seed, case)
    rng = np.random.default_rng([sub.seed, 1601])
    g = rng.standard_normal(ref_patchify(x["value"], p).shape)        # random upstream gradient dL/dtokens
    what = f"gradient of patchify(x, patch_size={p}) [{case}]"
    report = probe(sub, "patchify", x, p, g, what=what)
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    if report["grad"] is None:
        fail(f"{what}: no gradient reached x")
    # L = sum(G * patchify(x)) => dL/dx = unpatchify(G)
    assert_close(report["grad"], ref_unpatchify(g, p, x["value"].shape[2:]), what=f"{what}: x.grad",
                 inputs={"x": describe(x), "G": "random dL/dtokens"}, **EXACT)


# name: (tokens shape (B, N, D), patch, size, dtype, layout)
UNPATCH_CASES = {
    "grid3x5x7_C3_p222": ((2, 105, 24), (2, 2, 2), (6, 10, 14), "float64", "contiguous"),
    "grid3x5x7_C5_p111": ((1, 105, 5), (1, 1, 1), (3, 5, 7), "float64", "contiguous"),
    "grid1x3x1_C1_p435_float32": ((2, 3, 60), (4, 3, 5), (4, 9, 5), "float32", "contiguous"),
    "grid3x2x2_C2_p125_transposed": ((2, 12, 20), (1, 2, 5), (3, 4, 10), "float64", "transposed"),
    "grid1x3x5_C3_p521_strided": ((1, 15, 30), (5, 2, 1), (5, 6, 5), "float64", "strided"),
}


def unpatch_input(seed, case):
    shape, p, size, dtype, layout = UNPATCH_CASES[case]
    rng = np.random.default_rng([seed, 1700 + sum(shape) + sum(size)])
    return spec(randn(rng, shape, dtype), dtype, layout), p, size


@pytest.mark.part("patchify")
@pytest.mark.parametrize("case", list(UNPATCH_CASES))
def test_unpatchify_matches_reference(sub, case):
    """unpatchify: patchify의 역함수 (같은 순서 약속)"""
    tokens, p, size = unpatch_input(sub.seed, case)
    what = f"unpatchify(tokens, patch_size={p}, size={size}) [{case}]"
    report = probe(sub, "unpatchify", tokens, p, size, what=what)
    expected = ref_unpatchify(tokens["value"], p, size)
    got = readable_tensor(report["out"], what)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected (B, C, T, H, W) = {expected.shape}; tokens: {describe(tokens)}")
    explain_unpatchify(got, tokens["value"], p, tuple(s // q for s, q in zip(size, p)), what)
    check_dtype(report["out"], tokens["dtype"], what)
    expect(untouched(report, tokens), f"{what} changed its input in place")


@pytest.mark.part("patchify")
def test_unpatchify_gradient(sub):
    """unpatchify: gradient가 토큰으로 흐른다"""
    tokens, p, size = unpatch_input(sub.seed, "grid3x5x7_C3_p222")
    rng = np.random.default_rng([sub.seed, 1801])
    g = rng.standard_normal((2, 3) + size)                             # random upstream gradient dL/dvideo
    what = f"gradient of unpatchify(tokens, patch_size={p}, size={size})"
    report = probe(sub, "unpatchify", tokens, p, size, g, what=what)
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    if report["grad"] is None:
        fail(f"{what}: no gradient reached the tokens")
    assert_close(report["grad"], ref_patchify(g, p), what=f"{what}: tokens.grad",
                 inputs={"tokens": describe(tokens), "G": "random dL/dvideo"}, **EXACT)


ROUNDTRIP_CASES = {
    "grid3x5x7_C3_p222": ((2, 3, 6, 10, 14), (2, 2, 2), "contiguous"),
    "grid5x3x7_C5_p131": ((1, 5, 5, 9, 7), (1, 3, 1), "channels_last"),
    "grid7x1x3_C2_p153": ((2, 2, 7, 5, 9), (1, 5, 3), "contiguous"),
    "grid1x1x1_C3_p357": ((1, 3, 3, 5, 7), (3, 5, 7), "strided"),
}


@pytest.mark.part("patchify")
@pytest.mark.parametrize("case", list(ROUNDTRIP_CASES))
def test_roundtrip(sub, case):
    """unpatchify(patchify(x)) == x, patchify(unpatchify(tokens)) == tokens"""
    shape, p, layout = ROUNDTRIP_CASES[case]
    x = spec(randn(np.random.default_rng([sub.seed, 1900 + sum(shape)]), shape), layout=layout)
    what = f"unpatchify(patchify(x, {p}), {p}, {shape[2:]}) [{case}]"
    report = probe(sub, "roundtrip", x, p, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    inputs = {"x": describe(x)}
    check_value(report["back"], x["value"], what + " must give x back exactly", EXACT, inputs)
    if report["again"] is not None:
        check_value(report["again"], report["tokens"], f"patchify(unpatchify(tokens)) [{case}] must give the tokens back",
                    EXACT, inputs)


# =========================================================================== adaln_zero (3)
MOD_NAMES = ["shift_msa", "scale_msa", "gate_msa", "shift_mlp", "scale_mlp", "gate_mlp"]


def ref_modulate(x, shift, scale):
    return x * (1 + scale[:, None, :]) + shift[:, None, :]


MODULATE_CASES = {"B2_N5_D7": ((2, 5, 7), "float64"), "B3_N3_D4_B_equals_N": ((3, 3, 4), "float64"),
                  "B1_N9_D3_float32": ((1, 9, 3), "float32"), "B4_N1_D5": ((4, 1, 5), "float64")}


@pytest.mark.part("adaln_zero")
@pytest.mark.parametrize("case", list(MODULATE_CASES))
def test_modulate(sub, case):
    """modulate: x * (1 + scale) + shift, 샘플마다 하나의 shift/scale"""
    (B, N, D), dtype = MODULATE_CASES[case]
    rng = np.random.default_rng([sub.seed, 2000 + B * 100 + N * 10 + D])
    x, shift, scale = randn(rng, (B, N, D), dtype), randn(rng, (B, D), dtype), randn(rng, (B, D), dtype)
    what = f"modulate(x, shift, scale) [{case}]"
    info = probe(sub, "modulate", spec(x, dtype), spec(shift, dtype), spec(scale, dtype), what=what)
    inputs = {"x": f"{dtype} {(B, N, D)}", "shift, scale": f"{dtype} {(B, D)}"}
    got = readable_tensor(info, what)
    expected = ref_modulate(x, shift, scale)
    if got.shape == expected.shape and not np.allclose(got, expected, **tol(dtype)):
        if B == N:
            expect(not np.allclose(got, x * (1 + scale[None]) + shift[None], **tol(dtype)),
                   f"{what}: with B == N the shift/scale of sample b were applied to TOKEN b; "
                   "insert the token axis: shift[:, None, :]")
        expect(not np.allclose(got, x * scale[:, None, :] + shift[:, None, :], **tol(dtype)),
               f"{what}: this is x * scale + shift; adaLN uses x * (1 + scale) + shift")
    check_value(info, expected, what, tol(dtype), inputs)


def block_state(rng, dim, cond_dim, mlp_ratio, mod_scale=0.3):
    """Random weights for every parameter of the block (modulation non-zero), by state_dict name."""
    hidden = int(dim * mlp_ratio)

    def lin(n_out, n_in, s=None):
        s = 1 / math.sqrt(n_in) if s is None else s
        return s * rng.standard_normal((n_out, n_in)), 0.1 * rng.standard_normal(n_out)

    state = {}
    for name, (n_out, n_in) in (("attn.qkv", (3 * dim, dim)), ("attn.proj", (dim, dim)),
                                ("mlp.fc1", (hidden, dim)), ("mlp.fc2", (dim, hidden))):
        state[f"{name}.weight"], state[f"{name}.bias"] = lin(n_out, n_in)
    w, b = lin(6 * dim, cond_dim, mod_scale / math.sqrt(cond_dim))
    state["adaLN_modulation.1.weight"], state["adaLN_modulation.1.bias"] = w, 3 * b
    return state


def ref_block(state, x, c, num_heads):
    """The DiT block in float64 torch, from a state dict of tensors."""
    def linear(h, name):
        return h @ state[f"{name}.weight"].T + state[f"{name}.bias"]

    B, N, D = x.shape
    mod = linear(F.silu(c), "adaLN_modulation.1")
    shift1, scale1, gate1, shift2, scale2, gate2 = mod.chunk(6, dim=-1)

    def ln(h):
        return F.layer_norm(h, (D,), eps=1e-6)

    def attn(h):
        q, k, v = linear(h, "attn.qkv").reshape(B, N, 3, num_heads, D // num_heads).permute(2, 0, 3, 1, 4)
        w = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // num_heads), dim=-1)
        return linear((w @ v).transpose(1, 2).reshape(B, N, D), "attn.proj")

    def mlp(h):
        return linear(F.gelu(linear(h, "mlp.fc1"), approximate="tanh"), "mlp.fc2")

    x = x + gate1[:, None] * attn(ln(x) * (1 + scale1[:, None]) + shift1[:, None])
    return x + gate2[:, None] * mlp(ln(x) * (1 + scale2[:, None]) + shift2[:, None])


def ref_block_grads(state_np, x, c, g, num_heads):
    state = {k: torch.tensor(np.asarray(v), dtype=torch.float64, requires_grad=True) for k, v in state_np.items()}
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tc = torch.tensor(c, dtype=torch.float64, requires_grad=True)
    out = ref_block(state, tx, tc, num_heads)
    (out * torch.tensor(g, dtype=torch.float64)).sum().backward()
    return out.detach().numpy(), tx.grad.numpy(), tc.grad.numpy(), {k: v.grad.numpy() for k, v in state.items()}


BLOCK_PARAMS = {"attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias", "mlp.fc1.weight",
                "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias", "adaLN_modulation.1.weight", "adaLN_modulation.1.bias"}

# name: (dim, cond_dim, num_heads, mlp_ratio, B, N)
INIT_CASES = {"D12_c5_h3_B2_N7": (12, 5, 3, 4.0, 2, 7), "D10_c7_h2_r2_B3_N3": (10, 7, 2, 2.0, 3, 3)}


def init_report(sub, case, what):
    dim, cond, heads, ratio, B, N = INIT_CASES[case]
    rng = np.random.default_rng([sub.seed, 2100 + dim + cond])
    x, c = rng.standard_normal((B, N, dim)), rng.standard_normal((B, cond))
    g = rng.standard_normal((B, N, dim))                               # random upstream gradient dL/dout
    report = probe(sub, "adaln_init", dim, cond, heads, ratio, 15 + dim, x, c, g, what=what)
    if report.get("error"):
        fail(f"{what}: {report['error']}")
    return report, x, c, g, heads


def check_state_names(report, what):
    names = set(report["state"])
    if names != BLOCK_PARAMS:
        fail(f"{what}: the block's state_dict must hold exactly the notebook's parameters; missing "
             f"{sorted(BLOCK_PARAMS - names)}, unexpected {sorted(names - BLOCK_PARAMS)} (adaLN_modulation must be "
             "nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim)))")


# The defining property of adaLN-Zero, so it weighs 3 (a block that is not the identity at init
# loses 6/16 of the part, not 2/16).
@pytest.mark.part("adaln_zero", weight=3)
@pytest.mark.parametrize("case", list(INIT_CASES))
def test_adaln_zero_identity_at_init(sub, case):
    """AdaLNZeroBlock: 초기화 직후 항등 함수 (gate와 modulation이 0)"""
    what = f"AdaLNZeroBlock right after __init__ [{case}]"
    report, x, c, g, heads = init_report(sub, case, what)
    check_state_names(report, what)
    state = report["state"]
    dim, cond = INIT_CASES[case][:2]
    w, b = state["adaLN_modulation.1.weight"], state["adaLN_modulation.1.bias"]
    expect(w.shape == (6 * dim, cond), f"{what}: adaLN_modulation[1].weight has shape {w.shape}, expected {(6 * dim, cond)}")
    for name, value in (("weight", w), ("bias", b)):
        if np.any(value != 0):
            rows = [MOD_NAMES[k] for k in sorted({int(i) // dim for i in np.argwhere(value != 0)[:, 0]})]
            fail(f"{what}: adaLN_modulation[1].{name} is not zero-initialised (non-zero rows of {', '.join(rows)}); "
                 "adaLN-Zero starts with the weight AND the bias of that Linear at 0, so every gate is 0")
    zeroed = [k for k in ("attn.qkv.weight", "attn.proj.weight", "mlp.fc1.weight", "mlp.fc2.weight")
              if not np.any(state[k] != 0)]
    expect(not zeroed, f"{what}: {', '.join(zeroed)} is all zeros; only the modulation Linear is zero-initialised "
                       "(Attention and Mlp keep their default init, or the block can never switch on)")
    out = readable_tensor(report["out"], what)
    assert_close(out, x, what=f"{what}: block(x, c) must equal x (the identity at init)",
                 inputs={"x": f"float64 {x.shape}", "c": f"float64 {c.shape}"}, **IDENTITY)


@pytest.mark.part("adaln_zero")
@pytest.mark.parametrize("case", list(INIT_CASES))
def test_adaln_zero_gradients_at_init(sub, case):
    """AdaLNZeroBlock: 초기화 직후의 gradient가 맞다"""
    what = f"gradients of a fresh AdaLNZeroBlock [{case}]"
    report, x, c, g, heads = init_report(sub, case, what)
    check_state_names(report, what)
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    # expected gradients computed from the very weights the student's __init__ produced
    _, gx, gc, gp = ref_block_grads(report["state"], x, c, g, heads)
    inputs = {"x": f"float64 {x.shape}", "c": f"float64 {c.shape}", "G": "random dL/dout"}
    assert_close(report["grad_x"], gx, what=f"{what}: x.grad", inputs=inputs, **F64)
    assert_close(report["grad_c"], gc, what=f"{what}: c.grad", inputs=inputs, **F64)
    for name in sorted(BLOCK_PARAMS):
        got = report["grad_params"].get(name)
        if got is None:
            fail(f"{what}: no gradient reached {name}")
        assert_close(got, gp[name], what=f"{what}: {name}.grad (the shift/scale/gate chunk order is "
                                         f"{', '.join(MOD_NAMES)})" if name.startswith("adaLN") else
                     f"{what}: {name}.grad", inputs=inputs, **F64)


# name: (dim, cond_dim, num_heads, mlp_ratio, B, N, dtype, x offset, x scale)
FORWARD_CASES = {
    "D12_c5_h3_B2_N7": (12, 5, 3, 4.0, 2, 7, "float64", 0.0, 1.0),
    "D9_c4_h3_r2_B3_N3": (9, 4, 3, 2.0, 3, 3, "float64", 0.0, 1.0),
    "D10_c6_h5_B1_N11_float32": (10, 6, 5, 4.0, 1, 11, "float32", 0.0, 1.0),
    "D8_c3_h2_B2_N5_large_offset": (8, 3, 2, 4.0, 2, 5, "float64", 1e4, 50.0),
}


def forward_inputs(seed, case):
    dim, cond, heads, ratio, B, N, dtype, offset, scale = FORWARD_CASES[case]
    rng = np.random.default_rng([seed, 2200 + dim * 10 + cond])
    state = {k: as_dtype(v, dtype) for k, v in block_state(rng, dim, cond, ratio).items()}
    x = randn(rng, (B, N, dim), dtype, scale=scale, offset=offset)
    c = randn(rng, (B, cond), dtype)
    g = rng.standard_normal((B, N, dim))                               # random upstream gradient dL/dout
    return dim, cond, heads, ratio, dtype, state, x, c, g


@pytest.mark.part("adaln_zero")
@pytest.mark.parametrize("case", list(FORWARD_CASES))
def test_adaln_block_with_weights(sub, case):
    """AdaLNZeroBlock: 0이 아닌 가중치로 출력과 gradient가 맞다"""
    dim, cond, heads, ratio, dtype, state, x, c, g = forward_inputs(sub.seed, case)
    what = f"AdaLNZeroBlock.forward with non-zero modulation weights [{case}]"
    report = probe(sub, "adaln_forward", dim, cond, heads, ratio, state, x, c, g, dtype, what=what)
    if report.get("error"):
        fail(f"{what}: {report['error']}")
    out, gx, gc, gp = ref_block_grads(state, x, c, g, heads)
    inputs = {"x": f"{dtype} {x.shape}" + (f" (values around {FORWARD_CASES[case][7]:g})" if FORWARD_CASES[case][7] else ""),
              "c": f"{dtype} {c.shape}", "chunk order": ", ".join(MOD_NAMES)}
    check_value(report["out"], out, what, tol(dtype), inputs)
    check_dtype(report["out"], dtype, what)
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    grad_inputs = {**inputs, "G": "random dL/dout"}
    tolerance = tol(dtype) if dtype == "float32" else F64
    if FORWARD_CASES[case][7]:
        # x ~ 1e4 +- 50: LayerNorm divides by a std of ~50, so dL/dx is ~50x smaller and its float64
        # rounding is relative to the 1e4 offset: 1e-9 relative to the largest entry is ample.
        tolerance = dict(atol=1e-9 * float(np.abs(gx).max()), rtol=1e-7)
    assert_close(report["grad_x"], gx, what=f"{what}: x.grad", inputs=grad_inputs, **tolerance)
    assert_close(report["grad_c"], gc, what=f"{what}: c.grad", inputs=grad_inputs, **tol(dtype))
    name = "adaLN_modulation.1.weight"
    assert_close(report["grad_params"][name], gp[name], what=f"{what}: {name}.grad", inputs=grad_inputs, **tol(dtype))


# =========================================================================== rectified_flow (2)
def ref_interpolate(x0, x1, t):
    t = t.reshape(-1, *[1] * (x0.ndim - 1))
    return (1 - t) * x0 + t * x1


# name: (shape, dtype, x0 layout, x1 layout, t layout)
INTERP_CASES = {
    "B5_d2": ((5, 2), "float64", "contiguous", "contiguous", "contiguous"),
    "B3_video_2x3x5x7": ((3, 2, 3, 5, 7), "float64", "channels_last", "contiguous", "strided"),
    "B4_3x5_float32_strided": ((4, 3, 5), "float32", "strided", "transposed", "contiguous"),
    "B1_7": ((1, 7), "float64", "contiguous", "strided", "contiguous"),
}


def interp_inputs(seed, case):
    shape, dtype, l0, l1, lt = INTERP_CASES[case]
    rng = np.random.default_rng([seed, 3000 + sum(shape)])
    x0, x1 = randn(rng, shape, dtype), randn(rng, shape, dtype, scale=2.0, offset=1.0)
    t = as_dtype(np.resize(np.concatenate([[0.0, 1.0], rng.uniform(0, 1, 8)]), shape[0]), dtype)
    if shape[0] == 1:
        t = as_dtype([0.37], dtype)
    return spec(x0, dtype, l0), spec(x1, dtype, l1), spec(t, dtype, lt)


@pytest.mark.part("rectified_flow")
@pytest.mark.parametrize("case", list(INTERP_CASES))
def test_rf_interpolate(sub, case):
    """rf_interpolate: (1 - t) x0 + t x1, 입력은 그대로"""
    x0, x1, t = interp_inputs(sub.seed, case)
    what = f"rf_interpolate(x0, x1, t) [{case}]"
    report = probe(sub, "interpolate", x0, x1, t, what=what)
    inputs = {"x0": describe(x0), "x1": describe(x1), "t": describe(t)}
    expected = ref_interpolate(x0["value"], x1["value"], t["value"])
    got = readable_tensor(report["out"], what)
    if got.shape == expected.shape and not np.allclose(got, expected, **tol(x0["dtype"])):
        swapped = ref_interpolate(x1["value"], x0["value"], t["value"])
        expect(not np.allclose(got, swapped), f"{what}: x0 and x1 are swapped: x_t must be x0 (noise) at t = 0 and "
                                              "x1 (data) at t = 1")
    check_value(report["out"], expected, what, tol(x0["dtype"]), inputs)
    check_dtype(report["out"], x0["dtype"], what)
    expect(untouched(report, x0, x1, t), f"{what} changed one of its inputs in place")


@pytest.mark.part("rectified_flow")
@pytest.mark.parametrize("case", ["B5_d2", "B3_video_2x3x5x7"])
def test_velocity_target(sub, case):
    """velocity_target: x1 - x0"""
    x0, x1, _ = interp_inputs(sub.seed, case)
    what = f"velocity_target(x0, x1) [{case}]"
    report = probe(sub, "target", x0, x1, what=what)
    expected = x1["value"] - x0["value"]
    got = readable_tensor(report["out"], what)
    if got.shape == expected.shape:
        expect(not np.allclose(got, -expected), f"{what}: the sign is flipped; with x_t = (1 - t) x0 + t x1 the "
                                                "velocity d x_t / dt is x1 - x0 (from the noise to the data)")
    check_value(report["out"], expected, what, F64, {"x0": describe(x0), "x1": describe(x1)})
    expect(untouched(report, x0, x1), f"{what} changed one of its inputs in place")


FM_CASES = {
    "B7_d2": ((7, 2), "float64", "contiguous"),
    "B3_2x3x5": ((3, 2, 3, 5), "float64", "strided"),
    "B5_3x4_float32": ((5, 3, 4), "float32", "contiguous"),
}


def ref_fm(x0, x1, t, params):
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    tx0, tx1, tt = (torch.tensor(a, dtype=torch.float64) for a in (x0, x1, t))
    tb = tt.reshape(-1, *[1] * (tx0.dim() - 1))
    xt = (1 - tb) * tx0 + tb * tx1
    v = p["a"] * xt + p["b"] * tb + p["w"] * torch.tanh(xt)
    loss = ((v - (tx1 - tx0)) ** 2).mean()
    loss.backward()
    return float(loss.detach()), xt.detach().numpy(), {k: q.grad.numpy() for k, q in p.items()}


@pytest.mark.part("rectified_flow", weight=2)   # the loss is the part's point: as heavy as the two pieces it uses
@pytest.mark.parametrize("case", list(FM_CASES))
def test_flow_matching_loss(sub, case):
    """flow_matching_loss: 모델에 x_t와 t를 한 번 넘기고, 평균 제곱 오차와 gradient가 맞다"""
    shape, dtype, layout = FM_CASES[case]
    rng = np.random.default_rng([sub.seed, 3100 + sum(shape)])
    x0, x1 = randn(rng, shape, dtype), randn(rng, shape, dtype, scale=1.5, offset=-0.5)
    t = as_dtype(rng.uniform(0, 1, shape[0]), dtype)
    params = {k: as_dtype(rng.standard_normal(shape[1:]) * s, dtype) for k, s in (("a", 0.5), ("b", 1.0), ("w", 0.5))}
    what = f"flow_matching_loss(model, x0, x1, t) [{case}]"
    specs = (spec(x0, dtype, layout), spec(x1, dtype), spec(t, dtype))
    report = probe(sub, "fm_loss", *specs, params, what=what)
    inputs = {"x0": describe(specs[0]), "x1": describe(specs[1]), "t": describe(specs[2]),
              "model": "v(x, t) = a * x + b * t + w * tanh(x) with parameters a, b, w"}
    loss, xt, grads = ref_fm(x0, x1, t, params)
    calls = report["calls"]
    expect(len(calls) == 1, f"{what}: the model was called {len(calls)} times; call model(x_t, t) exactly once")
    call = calls[0]
    check_value(call["x"], xt, f"{what}: the x_t passed to the model", tol(dtype), inputs)
    got_t = readable_tensor(call["t"], f"{what}: the t passed to the model").reshape(-1)
    check_value({**call["t"], "value": got_t, "shape": list(got_t.shape)}, t, f"{what}: the t passed to the model",
                tol(dtype), inputs)
    info = report["loss"]
    got = readable_tensor(info, what)
    expect(list(info["shape"]) == [], f"{what}: the loss has shape {tuple(info['shape'])}; it must be a 0-d tensor "
                                      "(the mean over all elements, shape ())")
    value = float(got.reshape(-1)[0])
    if not np.isclose(value, loss, **tol(dtype)):
        target_flip = ((params["a"] * xt + params["b"] * t.reshape(-1, *[1] * (x0.ndim - 1))
                        + params["w"] * np.tanh(xt) - (x0 - x1)) ** 2).mean()
        expect(not np.isclose(value, target_flip, rtol=1e-6), f"{what}: the loss regresses onto x0 - x1; the target "
                                                              "velocity is x1 - x0")
        expect(not np.isclose(value, loss * x0.size, rtol=1e-6), f"{what}: the loss is a sum; use the mean over all elements")
        expect(not np.isclose(value, loss * x0.size / shape[0], rtol=1e-6),
               f"{what}: the loss is summed over the features; use the mean over all elements")
    assert_close(value, loss, what=f"{what}: loss", inputs=inputs, **tol(dtype))
    if report["grad_error"]:
        fail(f"{what}: {report['grad_error']}")
    for name in ("a", "b", "w"):
        assert_close(report["grads"][name], grads[name], what=f"{what}: gradient of the loss w.r.t. model.{name}",
                     inputs=inputs, **tol(dtype))


# =========================================================================== euler_sampler (2)
def gmm_field(x, t, means, sigma):
    t = t.reshape(-1, 1)
    var = (1 - t) ** 2 + (t * sigma) ** 2
    diff = x[:, None, :] - t[:, :, None] * means[None, :, :]
    logits = -(diff ** 2).sum(-1) / (2 * var)
    w = np.exp(logits - logits.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    cond = means[None] + ((t * sigma ** 2 - (1 - t)) / var)[:, :, None] * diff
    return (w[:, :, None] * cond).sum(axis=1)


def linear_field(x, t, A, b):
    tb = t.reshape(-1, *[1] * (x.ndim - 1))
    return (x @ A.T) * (1 + 3 * tb) + b * np.cos(2 * tb)


def euler_tol(dtype):
    return F32 if dtype == "float32" else EULER64


def ref_euler(field, x0, n):
    x, path = x0.copy(), [x0.copy()]
    for k in range(n):
        x = x + (1.0 / n) * field(x, np.full(x.shape[0], k / n))
        path.append(x)
    return np.stack(path)


def ring(k=6, radius=3.0):
    a = np.arange(k) * 2 * np.pi / k
    return radius * np.stack([np.cos(a), np.sin(a)], axis=-1)


def euler_case(seed, name):
    """(field name, args for the probe, numpy field, x0 spec)."""
    if name.startswith("gmm"):
        rng = np.random.default_rng([seed, 4000 + len(name)])
        means, sigma = ring(), 0.3
        if name == "gmm_5_clusters_B9_sigma0.2":
            means, sigma = ring(5, 2.5) + np.array([0.5, -0.25]), 0.2
        x0 = spec(rng.standard_normal((9, 2)))
        return "gmm", {"means": means, "sigma": sigma}, (lambda x, t: gmm_field(x, t, means, sigma)), x0
    rng = np.random.default_rng([seed, 4100 + len(name)])
    A = rng.standard_normal((5, 5)) / math.sqrt(5)
    b = rng.standard_normal(5)
    dtype = "float32" if "float32" in name else "float64"
    layout = "strided" if "strided" in name else "contiguous"
    x0 = spec(randn(rng, (4, 3, 5), dtype), dtype, layout)
    return "linear", {"A": A, "b": b}, (lambda x, t: linear_field(x, t, A, b)), x0


EULER_CASES = [("gmm_6_clusters_B9", 1), ("gmm_6_clusters_B9", 7), ("gmm_5_clusters_B9_sigma0.2", 25),
               ("linear_B4_3x5", 6), ("linear_B4_3x5_strided", 3), ("linear_B4_3x5_float32", 5)]


def run_euler(sub, name, n, return_path=False):
    field, args, np_field, x0 = euler_case(sub.seed, name)
    what = f"euler_sample(velocity_fn, x0, num_steps={n}" + (", return_path=True)" if return_path else ")") + f" [{name}]"
    report = probe(sub, "euler", field, args, x0, n, return_path, what=what)
    path = ref_euler(np_field, x0["value"], n)
    return report, path, what, x0


def check_times(report, n, what, B):
    calls = report["calls"]
    expect(len(calls) == n, f"{what}: the velocity field was called {len(calls)} times; {n} Euler steps call it "
                            f"exactly {n} times (once per step, at the start of the step)")
    got_t = [float(np.asarray(cl["t"]).reshape(-1)[0]) if np.size(cl["t"]) else float("nan") for cl in calls]
    want_t = [k / n for k in range(n)]
    if not np.allclose(got_t, want_t, atol=1e-6):
        k = int(np.argmax(~np.isclose(got_t, want_t, atol=1e-6)))
        fail(f"{what}: step {k} evaluated the velocity at t = {got_t[k]:.6g}; step k of {n} uses t_k = k / {n} "
             f"(from t = 0 up to t = 1 - 1/{n})")


@pytest.mark.part("euler_sampler")
@pytest.mark.parametrize("name,n", EULER_CASES, ids=[f"{a}_steps{b}" for a, b in EULER_CASES])
def test_euler_sample(sub, name, n):
    """euler_sample: t_k = k / N에서 N번, x + dt * v, x0는 그대로, dtype 유지"""
    report, path, what, x0 = run_euler(sub, name, n)
    B = x0["value"].shape[0]
    check_times(report, n, what, B)
    inputs = {"x0": describe(x0), "velocity_fn": "an analytic velocity field"}
    got = readable_tensor(report["out"], what)
    if got.shape == path[-1].shape and not np.allclose(got, path[-1], **euler_tol(x0["dtype"])):
        backwards = ref_euler(lambda x, t: -euler_case(sub.seed, name)[2](x, t), x0["value"], n)[-1]
        expect(not np.allclose(got, backwards, **euler_tol(x0["dtype"])),
               f"{what}: the steps go against the velocity (x - dt * v); from noise at t = 0 to data at t = 1 "
               "each step is x + dt * v(x, t)")
    check_value(report["out"], path[-1], what + ": x at t = 1", euler_tol(x0["dtype"]), inputs)
    check_dtype(report["out"], x0["dtype"], what)
    expect(untouched(report, x0), f"{what} changed x0 in place (x += ... on the first step changes the caller's tensor)")


@pytest.mark.part("euler_sampler")
@pytest.mark.parametrize("name,n", [("gmm_6_clusters_B9", 7), ("linear_B4_3x5", 4)])
def test_euler_return_path(sub, name, n):
    """euler_sample(return_path=True): [x_0, ..., x_N]"""
    report, path, what, x0 = run_euler(sub, name, n, return_path=True)
    check_value(report["out"], path, what + ": the path [x_0, x_1, ..., x_N]", euler_tol(x0["dtype"]),
                {"x0": describe(x0), "velocity_fn": "an analytic velocity field"})


@pytest.mark.part("euler_sampler", weight=2)   # how velocity_fn is called is half of the sampler's contract
def test_euler_time_argument(sub):
    """velocity_fn에 넘기는 t: x와 같은 dtype의 (B,) 텐서"""
    report, _, what, x0 = run_euler(sub, "linear_B4_3x5", 3)
    B = x0["value"].shape[0]
    for k, cl in enumerate(report["calls"]):
        expect(cl["t_kind"] == "torch", f"{what}: step {k} passed t as a {cl['t_kind']}; velocity_fn(x, t) takes a "
                                        f"(B,) torch tensor of times, here ({B},)")
        expect(cl["t_shape"] == [B], f"{what}: step {k} passed t of shape {tuple(cl['t_shape'])}; velocity_fn(x, t) "
                                     f"takes a (B,) tensor of times, here ({B},)")
        expect(cl["t_dtype"] == "float64", f"{what}: t has dtype {cl['t_dtype']}; use x's dtype (float64 here)")
        expect(cl["x_shape"] == list(x0["value"].shape), f"{what}: step {k} passed x of shape {tuple(cl['x_shape'])}")
