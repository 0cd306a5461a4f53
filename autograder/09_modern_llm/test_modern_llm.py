"""Hidden suite of 09_modern_llm: RMSNorm, RoPE at given positions, SwiGLU, GQA with a KV cache and
the KV-cache size formula, and a DeepSeekMoE-style top-k MoE layer with its load-balancing loss.

Weights and inputs are drawn here from the submission's seed (`sub.seed`: the same notebook gets
the same inputs, another notebook other ones), sent to the sandbox and loaded into the student's
modules in float64; every expected value is computed in this file with a float64 functional
reference. probes.py (public) holds no solution: the gqa part runs with a stand-in RoPE (a random
per-position scaling, `stand_in_rope`) and the moe part with a stand-in expert forward
(`stand_in_expert`), both computed here as well.
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

# Tolerances.
# float64 forward passes (RoPE, SwiGLU, GQA, MoE): student and reference use the same kind of
# operations on O(1)..O(1e2) values and differ only in summation order and in how cos/sin of the
# same float64 angles are formed, ~1e-13 relative at worst. 1e-8 is far above that and far below
# the smallest error any wrong formula makes in these tests (> 1e-2).
ATOL, RTOL = 1e-8, 1e-8
# RMSNorm: outputs are O(|weight|) = O(1). 1e-5 also accepts the common HF-style implementation
# that upcasts to float32 internally (relative error ~1e-7); subtracting the mean or moving eps
# out of the square root changes these outputs by O(1).
NORM_ATOL, NORM_RTOL = 1e-5, 1e-5
# float32 inputs (dtype-preservation checks): float32 angles at positions <= 40 are off by
# ~40 * 6e-8 rad, times |x| <= 5 gives ~1e-5; 1e-4 leaves margin, wrong conventions are O(1) off.
F32_ATOL, F32_RTOL = 1e-4, 1e-4
# Load-balancing loss and its gradient. The prose allows counting f_i with torch.bincount(...) /
# (T * k), which is float32: each f_i is then off by up to 6e-8 relative (float32 rounding of a
# ratio of small integers), and so are the loss and its gradient. 1e-6 relative accepts that with
# margin; every wrong formula tested here (no N factor, mean instead of sum, f from probs, counts
# not divided by k) is off by a factor >= 1.3.
AUX_ATOL, AUX_RTOL = 1e-12, 1e-6
# The gradient w.r.t. the logits goes through the softmax Jacobian: its entries are differences of
# terms of size ~|grad|, so an entry near 0 keeps the float32 f_i error of its terms (6e-8 x |grad|),
# which no relative tolerance of that entry covers. Its absolute tolerance is therefore 1e-6 times
# the largest entry (a wrong formula is off by >= 1.3x on the largest entries).
def aux_grad_atol(grad):
    return max(AUX_ATOL, AUX_RTOL * float(np.abs(grad).max()))
# Router gradient in the MoE layer: its aux-loss term carries the same float32 f_i error
# (|term| <= ~1 here, so <= 1e-7 absolute); the y term is float64 (1e-13).
ROUTER_ATOL, ROUTER_RTOL = 1e-6, 1e-6


# --------------------------------------------------------------------------- helpers
def _t(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def _tw(a):
    """A weight as a float64 tensor (kept as is when it already is one, e.g. requiring grad)."""
    return a if isinstance(a, torch.Tensor) else _t(a)


def call(sub, name, *args, what, timeout=None, **kwargs):
    """sub.probe, with the student's exception prefixed by what was being called."""
    try:
        return sub.probe(name, *args, timeout=timeout, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def tensor_value(value, what):
    if isinstance(value, str):
        fail(f"{what} must return a torch.Tensor, got {value}")
    return value


def tbc(rng, B, T, C, scale=1.0, shift=0.0):
    """An input sent as (T, B, C); the probe hands the student its (B, T, C) non-contiguous view."""
    return scale * rng.standard_normal((T, B, C)) + shift


def linear_w(rng, n_out, n_in, gain=1.0):
    return gain * rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)


# --------------------------------------------------------------------------- references (float64)
def ref_rmsnorm(x, w, eps):
    x = _t(x)
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * _t(w)


def ref_rope(x, positions, base=10000.0):
    """x (B, H, T, d) float64, positions (T,) or (B, T); half-split pairs (i, i + d/2)."""
    d = x.shape[-1]
    inv = base ** (-torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    ang = torch.as_tensor(np.asarray(positions), dtype=torch.float64).unsqueeze(-1) * inv
    ang = torch.cat([ang, ang], dim=-1)
    if ang.dim() == 3:
        ang = ang.unsqueeze(1)
    half = d // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * ang.cos() + rot * ang.sin()


def stand_in_rope(table, x, positions, base=10000.0):
    """The gqa probe's apply_rope stand-in (see probes.py): x * table[positions] * log(base)/log(1e4)."""
    scale = _t(table)[torch.as_tensor(np.asarray(positions), dtype=torch.long)]
    if scale.dim() == 3:
        scale = scale.unsqueeze(1)
    return x * scale * (math.log(base) / math.log(10000.0))


def rope_table(rng, n_positions, d_head):
    """A random per-position, per-channel table for the stand-in RoPE (signs included)."""
    return rng.uniform(0.5, 1.5, (n_positions, d_head)) * rng.choice([-1.0, 1.0], (n_positions, d_head))


def stand_in_expert(x, w, prefix=""):
    """The moe probe's SwiGLU.forward stand-in: w_down(tanh(w_gate x) * w_up x)."""
    def W(name):
        return torch.as_tensor(w[prefix + name], dtype=torch.float64)
    return F.linear(torch.tanh(F.linear(x, W("w_gate.weight"))) * F.linear(x, W("w_up.weight")), W("w_down.weight"))


def ref_swiglu(x, w, prefix=""):
    def W(name):
        return torch.as_tensor(w[prefix + name], dtype=torch.float64)
    return F.linear(F.silu(F.linear(x, W("w_gate.weight"))) * F.linear(x, W("w_up.weight")), W("w_down.weight"))


def ref_gqa(x, w, cfg, positions, table, past=None):
    """Returns (out, k_all, v_all) for x (B, T, C) float64, with the stand-in RoPE of `table`."""
    B, T, C = x.shape
    H, G = cfg["n_heads"], cfg["n_kv_heads"]
    hd = C // H
    q = F.linear(x, _tw(w["q_proj.weight"])).reshape(B, T, H, hd).transpose(1, 2)
    k = F.linear(x, _tw(w["k_proj.weight"])).reshape(B, T, G, hd).transpose(1, 2)
    v = F.linear(x, _tw(w["v_proj.weight"])).reshape(B, T, G, hd).transpose(1, 2)
    base = cfg.get("rope_base", 10000.0)
    q, k = stand_in_rope(table, q, positions, base), stand_in_rope(table, k, positions, base)
    if past is not None:
        k = torch.cat([_t(past[0]), k], dim=2)
        v = torch.cat([_t(past[1]), v], dim=2)
    S = k.shape[2]
    kr, vr = k.repeat_interleave(H // G, dim=1), v.repeat_interleave(H // G, dim=1)
    scores = q @ kr.transpose(-2, -1) / math.sqrt(hd)
    allowed = torch.arange(S)[None, :] <= torch.arange(S - T, S)[:, None]
    y = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ vr
    out = F.linear(y.transpose(1, 2).reshape(B, T, H * hd), _tw(w["o_proj.weight"]))
    return out, k, v


def ref_route(z, k):
    probs = torch.softmax(z, dim=-1)
    top, idx = probs.topk(k, dim=-1)
    return probs, top / top.sum(-1, keepdim=True), idx


def ref_aux(probs, idx, alpha):
    n, N = probs.shape
    f = F.one_hot(torch.as_tensor(idx), N).sum(dim=(0, 1)).to(torch.float64) / (n * idx.shape[-1])
    return alpha * N * (f * probs.mean(0)).sum()


def ref_moe(x, w, cfg):
    h = x.reshape(-1, x.shape[-1])
    probs, gates, idx = ref_route(F.linear(h, w["router.weight"]), cfg["top_k"])
    y = stand_in_expert(h, w, "shared_expert.")
    for e in range(cfg["n_experts"]):
        tok, slot = torch.where(idx == e)
        if tok.numel():
            out = stand_in_expert(h[tok], w, f"experts.{e}.")
            y = y.index_add(0, tok, gates[tok, slot, None] * out)
    return y.reshape(x.shape), ref_aux(probs, idx, cfg["alpha"])


# =========================================================================== rmsnorm (1)
NORM_CASES = [  # (B, T, C, scale, shift, eps)
    (2, 7, 9, 1.0, 3.0, 1e-6),         # mean far from 0: subtracting it changes everything
    (3, 5, 30, 1e3, -4e3, 1e-6),       # large negative magnitudes
    (2, 3, 11, 1e-2, 0.0, 1e-3),       # tiny inputs: eps inside vs outside the sqrt differs by O(1)
]


@pytest.mark.part("rmsnorm")
@pytest.mark.parametrize("B,T,C,scale,shift,eps", NORM_CASES, ids=["shifted", "large_negative", "tiny_eps"])
def test_rmsnorm_forward(sub, B, T, C, scale, shift, eps):
    """RMSNorm 출력: 평균을 빼지 않고 eps는 제곱근 안, 입력의 dtype 유지, 입력은 그대로"""
    rng = np.random.default_rng([sub.seed, 100 + C])
    w = 1.0 + 0.5 * rng.standard_normal(C)
    x = tbc(rng, B, T, C, scale, shift)
    what = f"RMSNorm({C}, eps={eps:g}) on x of shape ({B}, {T}, {C}), |x| ~ {max(abs(scale), abs(shift)):g}"
    got = call(sub, "rmsnorm", x, w, eps, what=what)
    expect(got["dtype"] == "torch.float64", f"{what}: output dtype {got['dtype'] or got['type']}, expected the input's float64")
    want = ref_rmsnorm(_t(x).permute(1, 0, 2), w, eps).numpy()
    assert_close(tensor_value(got["value"], what), want, atol=NORM_ATOL, rtol=NORM_RTOL, what=what)
    expect(unchanged(got["x_after"], x.transpose(1, 0, 2)), f"{what}: the input x was modified in place")


@pytest.mark.part("rmsnorm")
def test_rmsnorm_float32_and_grad(sub):
    """RMSNorm: float32 입력은 float32로, gradient가 x와 weight까지 흐름"""
    rng = np.random.default_rng([sub.seed, 131])
    B, T, C, eps = 2, 5, 13, 1e-5
    w = 1.0 + 0.5 * rng.standard_normal(C)
    x = tbc(rng, B, T, C, 2.0, -1.0)
    what = f"RMSNorm({C}) on a float32 x of shape ({B}, {T}, {C})"
    got = call(sub, "rmsnorm", x, w, eps, dtype="float32", what=what)
    expect(got["dtype"] == "torch.float32", f"{what}: output dtype {got['dtype'] or got['type']}, expected float32 (the input's)")
    want = ref_rmsnorm(_t(x).permute(1, 0, 2), w, eps)
    assert_close(tensor_value(got["value"], what), want.numpy(), atol=F32_ATOL, rtol=F32_RTOL, what=what)

    # gradients with a random upstream: the norm must stay differentiable in x and weight
    G = rng.standard_normal((B, T, C))
    what = f"gradients of RMSNorm({C}) (float64, random upstream gradient)"
    got = call(sub, "rmsnorm", x, w, eps, upstream=G, what=what)
    xt = _t(x).permute(1, 0, 2).clone().requires_grad_(True)
    wt = _t(w).requires_grad_(True)
    (ref_rmsnorm_t(xt, wt, eps) * _t(G)).sum().backward()
    if "x_grad" not in got:
        fail(f"{what}: the output does not require grad (is something detached?)")
    assert_close(tensor_value(got["x_grad"], what + ", dL/dx"), xt.grad.numpy(), atol=NORM_ATOL, rtol=NORM_RTOL, what=what + ", dL/dx")
    assert_close(tensor_value(got["w_grad"], what + ", dL/dweight"), wt.grad.numpy(), atol=NORM_ATOL, rtol=NORM_RTOL,
                 what=what + ", dL/dweight")


def ref_rmsnorm_t(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


# =========================================================================== rope (3)
def _rope_case(sub, rng, B, H, T, d, positions, base=None, scale=1.0, what=""):
    x = scale * rng.standard_normal((B, T, H, d))          # sent as (B, T, H, d); the student gets (B, H, T, d)
    pos = np.asarray(positions, dtype=np.int64)
    what = what or f"apply_rope on x of shape ({B}, {H}, {T}, {d})"
    what += f", positions={pos.tolist() if pos.size <= 12 else f'array of shape {pos.shape}'}"
    if base is not None:
        what += f", base={base:g}"
    G = rng.standard_normal((B, H, T, d))                  # every case also checks dL/dx (random upstream)
    got = call(sub, "rope", x, pos, base, upstream=G, what=what)
    expect(got["dtype"] == "torch.float64", f"{what}: output dtype {got['dtype'] or got['type']}, expected float64 (x's dtype)")
    b = 10000.0 if base is None else base
    want = ref_rope(_t(x).transpose(1, 2), pos, b).numpy()
    assert_close(tensor_value(got["value"], what), want, atol=ATOL, rtol=RTOL,
                 what=what + " (half-split pairs (i, i + d/2), at the GIVEN positions)")
    expect(unchanged(got["x_after"], x.transpose(0, 2, 1, 3)), f"{what}: the input x was modified in place")
    expect(unchanged(got["positions_after"], pos), f"{what}: positions was modified in place")
    if isinstance(got["x_grad"], str):
        fail(f"{what}: no gradient reaches x (is the output detached?)")
    xt = _t(x).transpose(1, 2).detach().requires_grad_(True)
    (ref_rope(xt, pos, b) * _t(G)).sum().backward()
    assert_close(got["x_grad"], xt.grad.numpy(), atol=ATOL, rtol=RTOL, what=what + ": dL/dx for a random upstream gradient")


@pytest.mark.part("rope")
def test_rope_offset_positions(sub):
    """RoPE: 0에서 시작하지 않는 위치 (캐시 뒤의 토큰), gradient 포함"""
    # a chunk that does not start at 0 (the tokens after a cached prefix)
    _rope_case(sub, np.random.default_rng([sub.seed, 201]), 2, 3, 7, 10, np.arange(5, 12), scale=30.0)


@pytest.mark.part("rope")
def test_rope_single_decode_token(sub):
    """RoPE: 아주 먼 위치의 디코딩 토큰 하나 (float64 각도)"""
    # one new token far into the sequence: float64 angles needed, and arange(1) = [0] is wrong.
    # Batched decoding: each row is at its own position, so positions is (B, 1)
    _rope_case(sub, np.random.default_rng([sub.seed, 202]), 3, 5, 1, 14, [[4093], [517], [2048]],
               what="apply_rope on one decode token per row (3, 5, 1, 14) in float64 (angles in x's dtype)")


@pytest.mark.part("rope")
def test_rope_per_row_positions_with_gaps(sub):
    """RoPE: 행마다 다른 (B, T) 위치, 건너뛰는 위치 포함"""
    # (B, T) positions: left padding gives each row its own offsets; gaps too
    pos = np.array([[0, 1, 2, 3, 4, 5], [3, 4, 5, 9, 10, 17], [100, 101, 102, 103, 250, 251]])
    _rope_case(sub, np.random.default_rng([sub.seed, 203]), 3, 2, 6, 6, pos, scale=-7.0)


@pytest.mark.part("rope")
def test_rope_base_and_odd_sizes(sub):
    """RoPE: base 500000, 2의 거듭제곱이 아닌 head 크기"""
    # Llama-3's base 500000, a head size that is not a power of two, positions starting at 0
    _rope_case(sub, np.random.default_rng([sub.seed, 204]), 2, 1, 9, 18, np.arange(9), base=500000.0)


@pytest.mark.part("rope")
def test_rope_float32_keeps_dtype(sub):
    """RoPE: float32 입력은 float32로"""
    rng = np.random.default_rng([sub.seed, 205])
    x = rng.standard_normal((2, 5, 3, 8))
    pos = np.arange(30, 35)
    what = "apply_rope on a float32 x of shape (2, 3, 5, 8), positions=[30..34]"
    got = call(sub, "rope", x, pos, None, dtype="float32", what=what)
    expect(got["dtype"] == "torch.float32", f"{what}: output dtype {got['dtype'] or got['type']}, expected float32 (x's dtype)")
    want = ref_rope(_t(x).transpose(1, 2), pos).numpy()
    assert_close(tensor_value(got["value"], what), want, atol=F32_ATOL, rtol=F32_RTOL, what=what)


@pytest.mark.part("rope")
def test_rope_gradient_flows_to_x(sub):
    """RoPE: gradient가 x까지 흐름"""
    # queries and keys are trained through RoPE: the gradient must reach x (a rotation: dL/dx is
    # the upstream rotated back), with no in-place write on a tensor autograd needs
    rng = np.random.default_rng([sub.seed, 206])
    B, T, H, d = 2, 4, 3, 6
    x = rng.standard_normal((B, T, H, d))
    pos = np.array([[3, 4, 9, 10], [0, 1, 2, 40]])          # (B, T): one row of positions per sequence
    G = rng.standard_normal((B, H, T, d))
    what = f"gradient of apply_rope on x of shape ({B}, {H}, {T}, {d}) (float64, random upstream gradient)"
    got = call(sub, "rope", x, pos, None, upstream=G, what=what)
    xt = _t(x).transpose(1, 2).detach().requires_grad_(True)
    (ref_rope(xt, pos) * _t(G)).sum().backward()
    if isinstance(got["x_grad"], str):
        fail(f"{what}: no gradient reaches x (is the output detached?)")
    assert_close(got["x_grad"], xt.grad.numpy(), atol=ATOL, rtol=RTOL, what=what + ", dL/dx")


# =========================================================================== swiglu (1)
@pytest.mark.part("swiglu")
@pytest.mark.parametrize("B,T,C,Hd,scale", [(2, 7, 30, 53, 1.0), (1, 3, 9, 13, 8.0)], ids=["C30H53", "C9H13_large"])
def test_swiglu(sub, B, T, C, Hd, scale):
    """SwiGLU 출력: w_down(silu(w_gate(x)) * w_up(x))"""
    rng = np.random.default_rng([sub.seed, 300 + C])
    w = {"w_gate.weight": linear_w(rng, Hd, C, 1.5), "w_up.weight": linear_w(rng, Hd, C, 1.5),
         "w_down.weight": linear_w(rng, C, Hd)}
    x = tbc(rng, B, T, C, scale, -0.5)
    what = f"SwiGLU(d_model={C}, d_hidden={Hd}) on x of shape ({B}, {T}, {C})"
    got = call(sub, "swiglu", C, Hd, w, x, what=what)
    want = ref_swiglu(_t(x).permute(1, 0, 2), w).numpy()
    assert_close(tensor_value(got["value"], what), want, atol=ATOL, rtol=RTOL,
                 what=what + " (w_down(silu(w_gate(x)) * w_up(x)))")


@pytest.mark.part("swiglu")
def test_swiglu_gradients(sub):
    """SwiGLU: gradient가 x와 w_gate까지 흐름"""
    # the FFN is trained: gradients reach x and the gate weight (Swish on the gate side only)
    rng = np.random.default_rng([sub.seed, 310])
    B, T, C, Hd = 2, 3, 7, 11
    w = {"w_gate.weight": linear_w(rng, Hd, C, 1.5), "w_up.weight": linear_w(rng, Hd, C, 1.5),
         "w_down.weight": linear_w(rng, C, Hd)}
    x = tbc(rng, B, T, C, 2.0)
    G = rng.standard_normal((B, T, C))
    what = f"gradients of SwiGLU(d_model={C}, d_hidden={Hd}) (float64, random upstream gradient)"
    got = call(sub, "swiglu", C, Hd, w, x, upstream=G, what=what)
    xt = _t(x).permute(1, 0, 2).detach().requires_grad_(True)
    wt = {k: _t(v).requires_grad_(k == "w_gate.weight") for k, v in w.items()}
    (ref_swiglu(xt, wt) * _t(G)).sum().backward()
    if isinstance(got["x_grad"], str) or isinstance(got["gate_grad"], str):
        fail(f"{what}: no gradient reaches x or w_gate.weight (is something detached?)")
    assert_close(got["x_grad"], xt.grad.numpy(), atol=ATOL, rtol=RTOL, what=what + ", dL/dx")
    assert_close(got["gate_grad"], wt["w_gate.weight"].grad.numpy(), atol=ATOL, rtol=RTOL, what=what + ", dL/dw_gate")


# =========================================================================== gqa (3)
def gqa_weights(rng, C, H, G):
    hd = C // H
    return {"q_proj.weight": linear_w(rng, H * hd, C, 1.5), "k_proj.weight": linear_w(rng, G * hd, C, 1.5),
            "v_proj.weight": linear_w(rng, G * hd, C), "o_proj.weight": linear_w(rng, C, H * hd)}


def gqa_cfg(C, H, G, base=10000.0):
    return {"d_model": C, "n_heads": H, "n_kv_heads": G, "rope_base": base}


def gqa_call(sub, cfg, w, x, steps, table, rng, what):
    """The gqa probe with a random upstream gradient for the first call (checked by _check_gqa_steps)."""
    n0 = steps[0][0]
    up = rng.standard_normal((x.shape[1], n0, cfg["d_model"]))
    return call(sub, "gqa", cfg, w, x, steps, table, up, what=what), up


def _check_gqa_grads(got, up, x, w, cfg, steps, table, what):
    """dL/dx and dL/dk_proj of the first call: gradients flow through attention to x and the keys."""
    n0, positions = steps[0]
    xt = _t(x).permute(1, 0, 2)[:, :n0].detach().requires_grad_(True)
    kw = _t(w["k_proj.weight"]).requires_grad_(True)
    out, _, _ = ref_gqa(xt, {**w, "k_proj.weight": kw}, cfg, positions, table)
    (out * _t(up)).sum().backward()
    if isinstance(got["x_grad"], str) or isinstance(got["k_proj_grad"], str):
        fail(f"{what}, call 1: no gradient reaches x or k_proj.weight (are keys, values or the output detached?)")
    want_x = np.zeros(_t(x).permute(1, 0, 2).shape)
    want_x[:, :n0] = xt.grad.numpy()
    assert_close(got["x_grad"], want_x, atol=ATOL, rtol=RTOL, what=f"{what}, call 1: dL/dx (random upstream)")
    assert_close(got["k_proj_grad"], kw.grad.numpy(), atol=ATOL, rtol=RTOL, what=f"{what}, call 1: dL/dk_proj.weight")


def _check_gqa_steps(got, x, w, cfg, steps, table, what, up=None):
    if got["error"]:
        fail(f"{what}: {got['error']}")
    if up is not None:
        _check_gqa_grads(got, up, x, w, cfg, steps, table, what)
    xt = _t(x).permute(1, 0, 2)
    past, start = None, 0
    B = xt.shape[0]
    hd = cfg["d_model"] // cfg["n_heads"]
    for i, (n, positions) in enumerate(steps):
        out, k, v = ref_gqa(xt[:, start:start + n], w, cfg, positions, table, past)
        label = f"{what}, call {i + 1} ({n} token(s) at positions {np.asarray(positions).tolist()})"
        info = got["infos"][i]
        for name in ("out", "k", "v"):
            expect(info[name]["dtype"] == "torch.float64",
                   f"{label}: returned {name} is {info[name]['dtype'] or info[name]['type']}, expected float64 (x's dtype)")
        assert_close(tensor_value(got["outs"][i], label), out.numpy(), atol=ATOL, rtol=RTOL, what=label + ": output")
        kshape = (B, cfg["n_kv_heads"], start + n, hd)
        kgot = tensor_value(got["ks"][i], label)
        expect(kgot.shape == kshape, f"{label}: returned k has shape {kgot.shape}, expected {kshape} "
                                     "(B, H_kv, cached + new, d_head): cache only the H_kv heads")
        assert_close(kgot, k.numpy(), atol=ATOL, rtol=RTOL, what=label + ": returned k (rotated keys, cached first)")
        assert_close(tensor_value(got["vs"][i], label), v.numpy(), atol=ATOL, rtol=RTOL, what=label + ": returned v")
        past, start = (k, v), start + n


GQA_CASES = [  # (B, T, C, H, G, first position)
    (2, 7, 36, 6, 2, 0),
    (1, 5, 30, 3, 1, 4),        # MQA
    (2, 6, 40, 4, 4, 0),        # MHA
    (3, 4, 60, 6, 3, 11),
]


@pytest.mark.part("gqa")
@pytest.mark.parametrize("B,T,C,H,G,p0", GQA_CASES, ids=[f"C{c}H{h}G{g}p{p}" for _, _, c, h, g, p in GQA_CASES])
def test_gqa_forward(sub, B, T, C, H, G, p0):
    """GQA 출력과 반환하는 캐시 (H_kv개 head, 회전된 key)"""
    rng = np.random.default_rng([sub.seed, 400 + C + G])
    cfg = gqa_cfg(C, H, G)
    w = gqa_weights(rng, C, H, G)
    x = tbc(rng, B, T, C)
    steps = [[T, np.arange(p0, p0 + T)]]
    table = rope_table(rng, p0 + T, C // H)
    what = f"GroupedQueryAttention(d_model={C}, n_heads={H}, n_kv_heads={G}) on x of shape ({B}, {T}, {C})"
    got, up = gqa_call(sub, cfg, w, x, steps, table, rng, what)
    _check_gqa_steps(got, x, w, cfg, steps, table, what, up)


@pytest.mark.part("gqa", weight=2)
def test_gqa_cached_decoding(sub):
    """GQA 캐시 디코딩: 나눠 넣은 결과가 한 번에 넣은 결과와 같음"""
    # prefill 5 tokens, then 1 + 2 + 1 tokens with the returned cache; rope base of Llama-3
    rng = np.random.default_rng([sub.seed, 451])
    B, C, H, G = 2, 42, 3, 1
    cfg = gqa_cfg(C, H, G, base=500000.0)
    w = gqa_weights(rng, C, H, G)
    x = tbc(rng, B, 9, C, 2.0)
    steps = [[5, np.arange(5)], [1, np.array([5])], [2, np.array([6, 7])], [1, np.array([8])]]
    table = rope_table(rng, 9, C // H)
    what = f"cached decoding with GroupedQueryAttention(d_model={C}, n_heads={H}, n_kv_heads={G}, rope_base=5e5)"
    got, up = gqa_call(sub, cfg, w, x, steps, table, rng, what)
    _check_gqa_steps(got, x, w, cfg, steps, table, what, up)
    # and the cached outputs equal one full pass
    full = ref_gqa(_t(x).permute(1, 0, 2), w, cfg, np.arange(9), table)[0].numpy()
    assert_close(np.concatenate(got["outs"], axis=1), full, atol=ATOL, rtol=RTOL,
                 what=what + ": outputs of all calls concatenated vs one pass over the 9 tokens")


@pytest.mark.part("gqa")
def test_gqa_per_row_positions(sub):
    """GQA: 행마다 다른 (B, T) 위치를 RoPE에 그대로 전달"""
    # (B, T) positions with gaps, passed through to RoPE
    rng = np.random.default_rng([sub.seed, 461])
    B, T, C, H, G = 2, 5, 48, 6, 2
    cfg = gqa_cfg(C, H, G)
    w = gqa_weights(rng, C, H, G)
    x = tbc(rng, B, T, C)
    steps = [[T, np.array([[0, 1, 2, 3, 4], [2, 3, 7, 8, 20]])]]
    table = rope_table(rng, 21, C // H)
    what = f"GroupedQueryAttention(d_model={C}, n_heads={H}, n_kv_heads={G}) with (B, T) positions"
    got, up = gqa_call(sub, cfg, w, x, steps, table, rng, what)
    _check_gqa_steps(got, x, w, cfg, steps, table, what, up)


@pytest.mark.part("gqa")
def test_gqa_gradients(sub):
    """GQA: gradient가 x와 네 projection 모두에 흐름 (detach 없음)

    Gradients flow through GQA to x and to all four projections (nothing detached)"""
    rng = np.random.default_rng([sub.seed, 465])
    B, T, C, H, G = 2, 5, 24, 6, 2
    cfg = gqa_cfg(C, H, G)
    w = gqa_weights(rng, C, H, G)
    x = tbc(rng, B, T, C)
    positions = np.arange(3, 3 + T)
    table = rope_table(rng, 3 + T, C // H)
    up = rng.standard_normal((B, T, C))
    what = f"gradients of GroupedQueryAttention(d_model={C}, n_heads={H}, n_kv_heads={G}) (random upstream gradient)"
    got = call(sub, "gqa_gradients", cfg, w, x, positions, table, up, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    xt = _t(x).permute(1, 0, 2).detach().requires_grad_(True)
    wt = {name: _t(value).requires_grad_(True) for name, value in w.items()}
    out, _, _ = ref_gqa(xt, wt, cfg, positions, table)
    (out * _t(up)).sum().backward()
    for name, want in (("x", xt.grad), *[(p, wt[p + ".weight"].grad) for p in ("q_proj", "k_proj", "v_proj", "o_proj")]):
        if isinstance(got[name], str):
            fail(f"{what}: no gradient reaches {name} (is something detached?)")
        assert_close(got[name], want.numpy(), atol=ATOL, rtol=RTOL, what=f"{what}: dL/d{name}")


@pytest.mark.part("gqa")
def test_gqa_given_past(sub):
    """GQA: 주어진 past_kv를 앞에 이어 붙이고 다시 회전하지 않음, past_kv는 그대로"""
    # the cache comes from elsewhere (already rotated keys at positions 0..P-1): concatenate, do not re-rotate
    rng = np.random.default_rng([sub.seed, 471])
    B, T, P, C, H, G = 2, 3, 6, 36, 6, 3
    hd = C // H
    cfg = gqa_cfg(C, H, G)
    w = gqa_weights(rng, C, H, G)
    x = tbc(rng, B, T, C)
    past_k, past_v = rng.standard_normal((B, G, P, hd)), rng.standard_normal((B, G, P, hd))
    positions = np.arange(P, P + T)
    what = (f"GroupedQueryAttention(d_model={C}, n_heads={H}, n_kv_heads={G}) on ({B}, {T}, {C}) at positions "
            f"{positions.tolist()} with a given past_kv of {P} positions")
    table = rope_table(rng, P + T, hd)
    got = call(sub, "gqa_with_past", cfg, w, x, positions, past_k, past_v, table, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    expect(unchanged(got["past_after"][0], past_k) and unchanged(got["past_after"][1], past_v),
           f"{what}: the given past_kv was modified in place")
    out, k, v = ref_gqa(_t(x).permute(1, 0, 2), w, cfg, positions, table, (past_k, past_v))
    assert_close(tensor_value(got["out"], what), out.numpy(), atol=ATOL, rtol=RTOL, what=what + ": output")
    assert_close(tensor_value(got["k"], what), k.numpy(), atol=ATOL, rtol=RTOL, what=what + ": returned k")
    assert_close(tensor_value(got["v"], what), v.numpy(), atol=ATOL, rtol=RTOL, what=what + ": returned v")


@pytest.mark.part("gqa")
def test_repeat_kv(sub):
    """repeat_kv: query head h는 kv head h // n_rep을 봄"""
    rng = np.random.default_rng([sub.seed, 481])
    for shape, n_rep in (((2, 3, 5, 4), 2), ((1, 2, 3, 6), 3), ((2, 4, 3, 2), 1)):
        x = rng.standard_normal(shape)
        what = f"repeat_kv(x of shape {shape}, n_rep={n_rep})"
        got = call(sub, "repeat_kv", x, n_rep, what=what)
        want = np.repeat(x, n_rep, axis=1)
        assert_close(tensor_value(got["value"], what), want, atol=0, rtol=0,
                     what=what + " (output head h must be kv head h // n_rep)")


KV_CONFIGS = [  # (layers, kv heads, d_head, batch, seq_len, bytes)
    (32, 8, 128, 1, 8192, 2),
    (32, 32, 128, 4, 4096, 2),
    (80, 8, 128, 3, 131072, 1),
    (7, 3, 10, 5, 333, 4),
]


@pytest.mark.part("gqa", weight=2)
def test_kv_cache_bytes(sub):
    """kv_cache_bytes: 2 L H_kv d_head B S bytes, Python int"""
    rng = np.random.default_rng([sub.seed, 490])
    configs = KV_CONFIGS + [tuple(int(v) for v in (rng.integers(1, 97), rng.integers(1, 17), rng.integers(3, 257),
                                                   rng.integers(1, 9), rng.integers(1, 200_000), rng.choice([1, 2, 4])))]
    got = call(sub, "kv_cache_bytes", configs, what="kv_cache_bytes")
    for cfg, value, kind in zip(configs, got["values"], got["types"]):
        L, G, hd, B, S, nb = cfg
        what = f"kv_cache_bytes(n_layers={L}, n_kv_heads={G}, d_head={hd}, batch={B}, seq_len={S}, bytes_per_elem={nb})"
        expect(kind == "builtins.int" or kind.startswith("numpy.int"), f"{what}: returned {kind}, expected a Python int")
        expect(value == 2 * L * G * hd * B * S * nb, f"{what}: got {value:.0f} bytes")


# =========================================================================== moe (2)
def router_logits(rng, n, N, scale=3.0):
    z = scale * rng.standard_normal((n, N))
    z += rng.choice([-800.0, 0.0, 800.0], size=(n, 1))       # huge per-token offsets: softmax must shift
    return z


@pytest.mark.part("moe")
@pytest.mark.parametrize("n,N,k", [(11, 5, 2), (6, 7, 3), (4, 3, 1)], ids=["N5k2", "N7k3", "N3k1"])
def test_route(sub, n, N, k):
    """route: 전체 softmax, 확률 큰 순서의 top-k, 합이 1인 gate (큰 logits 포함)"""
    rng = np.random.default_rng([sub.seed, 500 + N * 10 + k])
    z = router_logits(rng, n, N)
    what = f"route(router_logits of shape ({n}, {N}) with |logits| up to ~800, k={k})"
    got = call(sub, "route", z, k, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    probs, gates, idx = ref_route(_t(z), k)
    for name, dtype in (("probs", "torch.float64"), ("gates", "torch.float64"), ("experts", "torch.int64")):
        info = got[name + "_info"]
        expect(info["dtype"] == dtype, f"{what}: {name} is {info['dtype'] or info['type']}, expected {dtype}")
    assert_close(tensor_value(got["probs"], what + ": probs"), probs.numpy(), atol=ATOL, rtol=RTOL,
                 what=what + ": probs (softmax over all experts)")
    experts = tensor_value(got["experts"], what + ": experts")
    expect(np.shape(experts) == (n, k), f"{what}: experts has shape {np.shape(experts)}, expected {(n, k)}")
    bad = np.argwhere(np.asarray(experts) != idx.numpy())
    expect(bad.size == 0, f"{what}: wrong expert index at (token, slot) {tuple(bad[0]) if bad.size else ''} "
                          "(the k most probable experts, most probable first)")
    assert_close(tensor_value(got["gates"], what + ": gates"), gates.numpy(), atol=ATOL, rtol=RTOL,
                 what=what + ": gates (chosen probabilities renormalised to sum 1)")
    expect(unchanged(got["logits_after"], z), f"{what}: router_logits was modified in place")


@pytest.mark.part("moe")
@pytest.mark.parametrize("n,N,k,alpha", [(13, 5, 2, 0.01), (9, 8, 3, 0.3), (7, 4, 1, 1.0)],
                         ids=["N5k2", "N8k3", "N4k1"])
def test_load_balancing_loss(sub, n, N, k, alpha):
    """load_balancing_loss: alpha N sum f_i P_i, 0차원 텐서, router까지 gradient"""
    rng = np.random.default_rng([sub.seed, 600 + N * 10 + k])
    z = 2.0 * rng.standard_normal((n, N))
    experts = np.stack([rng.permutation(N)[:k] for _ in range(n)])      # any k distinct experts per token
    upstream = float(rng.uniform(0.5, 2.0) * rng.choice([-1, 1]))
    what = f"load_balancing_loss(probs ({n}, {N}), experts ({n}, {k}), alpha={alpha})"
    got = call(sub, "aux_loss", z, experts, alpha, upstream, what=what)
    expect(got["type"] == "torch.Tensor", f"{what}: returned {got['type']}, expected a torch.Tensor")
    expect(got["shape"] == [], f"{what}: returned shape {tuple(got['shape'] or ())}, expected a 0-d tensor, shape ()")
    expect(got["dtype"] == "torch.float64", f"{what}: returned dtype {got['dtype']}, expected float64 (probs' dtype)")
    expect(unchanged(got["experts_after"], experts), f"{what}: experts was modified in place")
    zt = _t(z).requires_grad_(True)
    want = ref_aux(torch.softmax(zt, -1), torch.as_tensor(experts), alpha)
    want.backward(torch.tensor(upstream, dtype=torch.float64))
    assert_close(got["value"], want.item(), atol=AUX_ATOL, rtol=AUX_RTOL,
                 what=what + " (alpha * N * sum_i f_i P_i)")
    if isinstance(got["grad"], str):
        fail(f"{what}: the loss does not carry a gradient to the router probabilities")
    assert_close(got["grad"], zt.grad.numpy(), atol=aux_grad_atol(zt.grad.numpy()), rtol=AUX_RTOL,
                 what=what + f": gradient w.r.t. the router logits (upstream {upstream:.3f})")


@pytest.mark.part("moe")
def test_load_balancing_loss_float32(sub):
    """load_balancing_loss: float32 probs는 float32 손실로"""
    # float32 router probabilities (a model trained in float32): the loss keeps probs' dtype and
    # the counts, however they are made, match within float32 rounding
    rng = np.random.default_rng([sub.seed, 650])
    n, N, k, alpha = 10, 6, 2, 0.05
    z = 2.0 * rng.standard_normal((n, N))
    experts = np.stack([rng.permutation(N)[:k] for _ in range(n)])
    what = f"load_balancing_loss on float32 probs ({n}, {N}), experts ({n}, {k}), alpha={alpha}"
    got = call(sub, "aux_loss", z, experts, alpha, 1.0, dtype="float32", what=what)
    expect(got["type"] == "torch.Tensor" and got["shape"] == [],
           f"{what}: returned {got['type']} of shape {got['shape']}, expected a 0-d torch.Tensor")
    expect(got["dtype"] == "torch.float32", f"{what}: returned dtype {got['dtype']}, expected float32 (probs' dtype)")
    zt = _t(z).requires_grad_(True)
    want = ref_aux(torch.softmax(zt, -1), torch.as_tensor(experts), alpha)
    want.backward()
    # float32 softmax and sums: ~1e-7 relative; 1e-5 leaves margin, wrong formulas are >= 1.3x off
    assert_close(got["value"], want.item(), atol=1e-9, rtol=1e-5, what=what)
    if isinstance(got["grad"], str):
        fail(f"{what}: the loss does not carry a gradient to the router probabilities")
    assert_close(got["grad"], zt.grad.numpy(), atol=1e-8, rtol=1e-4, what=what + ": gradient w.r.t. the logits")


def moe_weights(rng, cfg):
    C, Hd, N = cfg["d_model"], cfg["d_hidden"], cfg["n_experts"]
    w = {"router.weight": linear_w(rng, N, C, 3.0)}
    for prefix in [f"experts.{e}." for e in range(N)] + ["shared_expert."]:
        w.update({prefix + "w_gate.weight": linear_w(rng, Hd, C, 1.5), prefix + "w_up.weight": linear_w(rng, Hd, C, 1.5),
                  prefix + "w_down.weight": linear_w(rng, C, Hd)})
    return w


MOE_CASES = [  # (B, T, C, hidden, N, k, alpha)
    (2, 7, 9, 13, 5, 2, 0.01),
    (1, 3, 10, 6, 7, 3, 0.1),      # few tokens: some experts get none
]


@pytest.mark.part("moe", weight=3)  # the layer is what the part builds: routing, gating and the loss together
@pytest.mark.parametrize("B,T,C,Hd,N,k,alpha", MOE_CASES, ids=["N5k2", "N7k3_sparse"])
def test_moe_layer(sub, B, T, C, Hd, N, k, alpha):
    """MoE 층: shared + top-k gate 가중합, aux loss, router weight의 gradient"""
    rng = np.random.default_rng([sub.seed, 700 + N])
    cfg = {"d_model": C, "d_hidden": Hd, "n_experts": N, "top_k": k, "alpha": alpha}
    w = moe_weights(rng, cfg)
    x = tbc(rng, B, T, C)
    G = rng.standard_normal((B, T, C))
    aux_up = 5.0
    what = f"MoE(d_model={C}, d_hidden={Hd}, n_experts={N}, top_k={k}, alpha={alpha}) on x of shape ({B}, {T}, {C})"
    got = call(sub, "moe", cfg, w, x, G, aux_up, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    wt = {name: _t(v) for name, v in w.items()}
    wt["router.weight"].requires_grad_(True)
    y, aux = ref_moe(_t(x).permute(1, 0, 2), wt, cfg)
    expect(got["y_info"]["dtype"] == "torch.float64" and got["y_info"]["shape"] == [B, T, C],
           f"{what}: y is {got['y_info']['dtype'] or got['y_info']['type']} of shape {got['y_info']['shape']}, "
           f"expected float64 of shape {[B, T, C]} (x's)")
    expect(got["aux_info"]["shape"] == [], f"{what}: aux_loss has shape {got['aux_info']['shape']}, expected a 0-d tensor")
    assert_close(tensor_value(got["y"], what + ": y"), y.detach().numpy(), atol=ATOL, rtol=RTOL,
                 what=what + ": y = shared(x) + sum of gate * expert(x) over the top-k")
    assert_close(tensor_value(got["aux"], what + ": aux_loss"), aux.item(), atol=AUX_ATOL, rtol=AUX_RTOL,
                 what=what + ": aux_loss")
    ((y * _t(G)).sum() + aux_up * aux).backward()
    if isinstance(got["router_grad"], str):
        fail(f"{what}: no gradient reaches router.weight (gates and aux_loss must stay differentiable)")
    assert_close(got["router_grad"], wt["router.weight"].grad.numpy(), atol=ROUTER_ATOL, rtol=ROUTER_RTOL,
                 what=what + ": gradient of router.weight (random upstream for y, and for aux_loss)")
