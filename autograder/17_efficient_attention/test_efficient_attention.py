"""Hidden suite of 17_efficient_attention: MLA (latent KV cache, absorbed path, cache size) and
causal linear attention / GLA in parallel and recurrent form.

Weights and inputs are drawn here (seeded NumPy), sent to the sandbox and used by the student's
code in float64; every expected value is computed in this file with float64 references that do
not use the student's code: the MLA reference is the UNCOMPRESSED path (an MHA whose key/value
weights are W_UK @ W_DKV and W_UV @ W_DKV), linear attention and GLA are references written
from the recurrence in NumPy. See probes.py for which pieces are the student's in each part.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Tolerances (everything runs in float64 on both sides).
# MLA: student and reference multiply the same float64 matrices in a different order (merged
# W_UK @ W_DKV vs up-projecting the latents, absorbed vs up-projected): rounding differs by
# ~1e-14 relative on O(1..1e2) values. 1e-8 is far above that and far below what any wrong
# formula changes in these tests (> 1e-3).
ATOL, RTOL = 1e-8, 1e-8
# Linear attention / GLA: sums of at most T * d_k products of O(1e2) terms, and for GLA decay
# factors exp(Lam_t - Lam_s) whose exponents come from cumulative sums of size up to ~2e3, so
# the exponent carries an absolute rounding error ~2e3 * 1e-16 = 2e-13 (relative error of the
# factor). 1e-8 absolute / relative leaves five orders of magnitude of margin; a missing mask,
# a decay off by one step or after the update changes the outputs by > 1e-2.
LA_ATOL, LA_RTOL = 1e-8, 1e-8


# --------------------------------------------------------------------------- helpers
def _t(a):
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def call(sub, name, *args, what, **kwargs):
    """sub.probe, with the student's exception prefixed by what was being called."""
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def tensor_value(value, what):
    if isinstance(value, str):
        fail(f"{what}: expected a float64 torch.Tensor, got {value}")
    return value


def linear_w(rng, n_out, n_in, gain=1.0):
    return gain * rng.standard_normal((n_out, n_in)) / math.sqrt(n_in)


# =========================================================================== MLA references
def mla_cfg(C, H, dh, dc):
    return {"d_model": C, "n_heads": H, "d_head": dh, "d_latent": dc}


def mla_weights(rng, C, H, dh, dc, gain=1.5):
    return {"q_proj.weight": linear_w(rng, H * dh, C, gain), "kv_down.weight": linear_w(rng, dc, C, gain),
            "k_up.weight": linear_w(rng, H * dh, dc, gain), "v_up.weight": linear_w(rng, H * dh, dc),
            "o_proj.weight": linear_w(rng, C, H * dh)}


def ref_attention(q, k, v):
    """softmax(q k^T / sqrt(d)) v, the T queries being the last T of the S key positions."""
    T, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = torch.arange(S)[None, :] <= torch.arange(S - T, S)[:, None]
    return torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v


def ref_mla(x, w, cfg, past=None):
    """Uncompressed path for x (B, T, C): keys/values of the new tokens through the merged weights
    W_UK @ W_DKV, W_UV @ W_DKV; keys/values of a given past of latents through W_UK, W_UV.
    Returns (out, latents of past + new)."""
    B, T, _ = x.shape
    H, dh = cfg["n_heads"], cfg["d_head"]
    W_dkv, W_uk, W_uv = _t(w["kv_down.weight"]), _t(w["k_up.weight"]), _t(w["v_up.weight"])
    k = x @ (W_uk @ W_dkv).T
    v = x @ (W_uv @ W_dkv).T
    latents = x @ W_dkv.T
    if past is not None:
        past = _t(past)
        k = torch.cat([past @ W_uk.T, k], dim=1)
        v = torch.cat([past @ W_uv.T, v], dim=1)
        latents = torch.cat([past, latents], dim=1)
    S = k.shape[1]
    split = lambda a, n: a.reshape(B, n, H, dh).transpose(1, 2)  # noqa: E731
    y = ref_attention(split(x @ _t(w["q_proj.weight"]).T, T), split(k, S), split(v, S))
    return y.transpose(1, 2).reshape(B, T, H * dh) @ _t(w["o_proj.weight"]).T, latents


def ref_from_latents(x, c, w, cfg):
    """MLA output for the last T of S positions, keys/values up-projected from the latents c."""
    B, T, _ = x.shape
    S = c.shape[1]
    H, dh = cfg["n_heads"], cfg["d_head"]
    split = lambda a, n: a.reshape(B, n, H, dh).transpose(1, 2)  # noqa: E731
    q = split(x @ _t(w["q_proj.weight"]).T, T)
    y = ref_attention(q, split(c @ _t(w["k_up.weight"]).T, S), split(c @ _t(w["v_up.weight"]).T, S))
    return y.transpose(1, 2).reshape(B, T, H * dh) @ _t(w["o_proj.weight"]).T


def mla_name(cfg):
    return (f"MultiHeadLatentAttention(d_model={cfg['d_model']}, n_heads={cfg['n_heads']}, "
            f"d_head={cfg['d_head']}, d_latent={cfg['d_latent']})")


def _check_mla_steps(got, x_tbc, w, cfg, steps, what):
    if got["error"]:
        fail(f"{what}: {got['error']}")
    x = _t(x_tbc).permute(1, 0, 2)
    B = x.shape[0]
    past, start = None, 0
    for i, n in enumerate(steps):
        out, latents = ref_mla(x[:, start:start + n], w, cfg, past)
        label = f"{what}, call {i + 1} ({n} new token(s) after {start} cached)"
        assert_close(tensor_value(got["outs"][i], label), out.numpy(), atol=ATOL, rtol=RTOL, what=label + ": output")
        cache = tensor_value(got["caches"][i], label + ": the returned cache")
        want_shape = (B, start + n, cfg["d_latent"])
        expect(np.shape(cache) == want_shape,
               f"{label}: the returned cache has shape {np.shape(cache)}, expected {want_shape} "
               "(B, cached + new, d_latent): MLA caches only the latents c_kv, not up-projected K/V")
        assert_close(cache, latents.numpy(), atol=ATOL, rtol=RTOL,
                     what=label + ": returned cache (past latents first, then kv_down(x))")
        past, start = latents, start + n


# =========================================================================== mla_forward (2)
MLA_CASES = [  # (B, T, C, H, d_head, d_latent)
    (2, 7, 30, 3, 7, 5),
    (1, 9, 24, 4, 6, 11),        # d_latent > d_head
    (3, 4, 20, 1, 9, 3),         # a single head
]


@pytest.mark.part("mla_forward")
@pytest.mark.parametrize("B,T,C,H,dh,dc", MLA_CASES, ids=[f"C{c}H{h}dh{d}dc{l}" for _, _, c, h, d, l in MLA_CASES])
def test_mla_prefill(sub, B, T, C, H, dh, dc):
    """MLA forward: 압축하지 않은 MHA와 같은 출력, 캐시는 잠재 벡터"""
    rng = np.random.default_rng([sub.seed, 1000 + C + dc])
    cfg = mla_cfg(C, H, dh, dc)
    w = mla_weights(rng, C, H, dh, dc)
    x = rng.standard_normal((T, B, C))
    what = f"{mla_name(cfg)} on x of shape ({B}, {T}, {C})"
    got = call(sub, "mla", cfg, w, x, [T], what=what)
    _check_mla_steps(got, x, w, cfg, [T], what)


@pytest.mark.part("mla_forward", weight=2)
def test_mla_chunked_decoding(sub):
    # prefill 5 tokens, then 1 + 3 + 1 tokens, each call given the cache the previous one returned
    """MLA forward: 캐시를 이어받아 나눠 디코딩해도 한 번에 한 것과 같다"""
    rng = np.random.default_rng([sub.seed, 1101])
    B, C, H, dh, dc = 2, 21, 3, 5, 4
    cfg = mla_cfg(C, H, dh, dc)
    w = mla_weights(rng, C, H, dh, dc)
    x = 2.0 * rng.standard_normal((10, B, C))
    steps = [5, 1, 3, 1]
    what = f"cached decoding with {mla_name(cfg)}"
    got = call(sub, "mla", cfg, w, x, steps, what=what)
    _check_mla_steps(got, x, w, cfg, steps, what)
    full = ref_mla(_t(x).permute(1, 0, 2), w, cfg)[0].numpy()
    assert_close(np.concatenate(got["outs"], axis=1), full, atol=ATOL, rtol=RTOL,
                 what=what + ": outputs of all calls concatenated vs one pass over the 10 tokens")


@pytest.mark.part("mla_forward")
def test_mla_given_past(sub):
    # latents from elsewhere (large magnitudes): up-project them as they are, past first
    """MLA forward: 주어진 past_latent 뒤에 이어 붙이고 past는 그대로"""
    rng = np.random.default_rng([sub.seed, 1201])
    B, T, P, C, H, dh, dc = 2, 3, 6, 18, 2, 7, 6
    cfg = mla_cfg(C, H, dh, dc)
    w = mla_weights(rng, C, H, dh, dc)
    x = rng.standard_normal((T, B, C))
    past = -3.0 + 4.0 * rng.standard_normal((P, B, dc))
    what = f"{mla_name(cfg)} on x of shape ({B}, {T}, {C}) with a given past_latent of shape ({B}, {P}, {dc})"
    got = call(sub, "mla_with_past", cfg, w, x, past, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    out, latents = ref_mla(_t(x).permute(1, 0, 2), w, cfg, _t(past).permute(1, 0, 2))
    assert_close(tensor_value(got["out"], what), out.numpy(), atol=ATOL, rtol=RTOL, what=what + ": output")
    cache = tensor_value(got["cache"], what + ": the returned cache")
    expect(np.shape(cache) == (B, P + T, dc), f"{what}: the returned cache has shape {np.shape(cache)}, expected "
                                              f"{(B, P + T, dc)}: only latents go into the cache")
    assert_close(cache, latents.numpy(), atol=ATOL, rtol=RTOL, what=what + ": returned cache (past first)")
    # past went in as a (B, P, d_latent) view of the (P, B, d_latent) array; judged here from what the
    # probe read back after the call (in the sandbox torch.equal or clone may be patched)
    expect(unchanged(got["past_after"], np.swapaxes(past, 0, 1)), f"{what}: past_latent was modified in place")


def ref_mla_grads(x_tbc, w, cfg, G):
    """Gradients of sum(G * out) for the uncompressed path, torch float64 autograd: every weight and x."""
    leaves = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in w.items()}
    x = torch.tensor(x_tbc, dtype=torch.float64, requires_grad=True)
    xb = x.permute(1, 0, 2)
    B, T, _ = xb.shape
    H, dh = cfg["n_heads"], cfg["d_head"]
    latents = xb @ leaves["kv_down.weight"].T
    split = lambda a: a.reshape(B, T, H, dh).transpose(1, 2)  # noqa: E731
    y = ref_attention(split(xb @ leaves["q_proj.weight"].T), split(latents @ leaves["k_up.weight"].T),
                      split(latents @ leaves["v_up.weight"].T))
    out = y.transpose(1, 2).reshape(B, T, H * dh) @ leaves["o_proj.weight"].T
    (out * torch.tensor(G, dtype=torch.float64).permute(1, 0, 2)).sum().backward()
    return {name: leaf.grad.numpy() for name, leaf in leaves.items()}, x.grad.numpy()


@pytest.mark.part("mla_forward", weight=2)
def test_mla_gradients(sub):
    """MLA forward: gradient가 잠재 벡터를 거쳐 모든 가중치와 입력으로 흐른다"""
    rng = np.random.default_rng([sub.seed, 1301])
    B, T, C, H, dh, dc = 2, 6, 15, 3, 4, 5
    cfg = mla_cfg(C, H, dh, dc)
    w = mla_weights(rng, C, H, dh, dc)
    x = rng.standard_normal((T, B, C))
    G = rng.standard_normal((T, B, C))                    # a random upstream gradient
    what = f"{mla_name(cfg)} on x of shape ({B}, {T}, {C}), d(sum G * out) with a random G"
    got = call(sub, "mla_grad", cfg, w, x, G, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    want, want_x = ref_mla_grads(x, w, cfg, G)
    # float64 on both sides; the merged and the two-step paths differ in the order of the sums (~1e-14).
    for name, g in want.items():
        have = got["grads"].get(name)
        if have is None:
            fail(f"{what}: no gradient reached {name} (is the latent path detached?)")
        assert_close(have, g, atol=1e-8, rtol=1e-8, what=f"{what}: gradient of {name}")
    if got["grad_x"] is None:
        fail(f"{what}: no gradient reached x")
    assert_close(got["grad_x"], want_x, atol=1e-8, rtol=1e-8, what=f"{what}: gradient of x")


# =========================================================================== mla_absorbed (2)
ABSORB_CASES = [  # (B, T, S, C, H, d_head, d_latent, latent scale)
    (2, 7, 7, 30, 3, 7, 5, 1.0),      # prefill: S == T
    (3, 1, 9, 24, 4, 6, 11, 1.0),     # one decode step, d_latent > d_head
    (1, 3, 10, 20, 2, 9, 4, 6.0),     # a chunk of 3 after 7 cached, large latents (peaked softmax)
]


@pytest.mark.part("mla_absorbed")
@pytest.mark.parametrize("B,T,S,C,H,dh,dc,scale", ABSORB_CASES,
                         ids=[f"T{t}S{s}dh{d}dc{l}" for _, t, s, _, _, d, l, _ in ABSORB_CASES])
def test_absorbed_attention(sub, B, T, S, C, H, dh, dc, scale):
    """absorbed_attention: K/V를 복원하지 않고 up-projection 경로와 같은 출력"""
    rng = np.random.default_rng([sub.seed, 2000 + S * 10 + dc])
    cfg = mla_cfg(C, H, dh, dc)
    w = mla_weights(rng, C, H, dh, dc)
    x = rng.standard_normal((T, B, C))
    c = scale * rng.standard_normal((S, B, dc))            # the cache: any latents, sent (S, B, d_latent)
    what = (f"absorbed_attention(mla with n_heads={H}, d_head={dh}, d_latent={dc}; x of shape ({B}, {T}, {C}), "
            f"c_kv of shape ({B}, {S}, {dc}))")
    got = call(sub, "absorbed", cfg, w, x, c, what=what)
    want = ref_from_latents(_t(x).permute(1, 0, 2), _t(c).permute(1, 0, 2), w, cfg).numpy()
    assert_close(tensor_value(got["value"], what), want, atol=ATOL, rtol=RTOL,
                 what=what + " vs the up-projected (uncompressed) path")
    expect(unchanged(got["cache_after"], np.swapaxes(c, 0, 1)), f"{what}: c_kv was modified in place")


# =========================================================================== mla_cache_bytes (1)
def _cache_case(kind, L, H, dh, batch, seq, nbytes, n_kv=None, dc=None, dr=None):
    cfg = {"kind": kind, "n_layers": L, "n_heads": H, "d_head": dh}
    if n_kv is not None:
        cfg["n_kv_heads"] = n_kv
    if dc is not None:
        cfg["d_latent"] = dc
    if dr is not None:
        cfg["d_rope"] = dr
    return cfg, batch, seq, nbytes


def expected_bytes(cfg, batch, seq, nbytes):
    kind = cfg["kind"]
    if kind == "mla":
        per_token = cfg["d_latent"] + cfg.get("d_rope", 0)
    else:
        per_token = 2 * {"mha": cfg["n_heads"], "gqa": cfg.get("n_kv_heads"), "mqa": 1}[kind] * cfg["d_head"]
    return cfg["n_layers"] * per_token * batch * seq * nbytes


KV_CASES = [
    _cache_case("mha", 32, 32, 128, 1, 4096, 2),
    _cache_case("gqa", 80, 64, 128, 3, 131072, 1, n_kv=8),
    _cache_case("mqa", 7, 9, 10, 5, 333, 4),
    _cache_case("gqa", 5, 6, 11, 2, 77, 2, n_kv=3),
]
MLA_CACHE_CASES = [
    _cache_case("mla", 60, 128, 128, 1, 131072, 2, dc=512, dr=64),     # DeepSeek-V2 at 128K, bf16
    _cache_case("mla", 61, 128, 128, 4, 4096, 1, dc=512, dr=64),       # DeepSeek-V3, fp8
    _cache_case("mla", 7, 9, 10, 3, 333, 4, dc=13),                    # no d_rope key: 0
    _cache_case("mla", 3, 5, 11, 2, 101, 2, dc=7, dr=3),
]


def _check_cache_cases(sub, cases):
    got = call(sub, "cache_bytes", [list(c) for c in cases], what="kv_cache_bytes")
    for (cfg, batch, seq, nbytes), value, kind in zip(cases, got["values"], got["types"]):
        what = f"kv_cache_bytes({cfg}, batch={batch}, seq_len={seq}, bytes_per_elem={nbytes})"
        expect(kind == "builtins.int" or kind.startswith("numpy.int"), f"{what}: returned {kind}, expected a Python int")
        expect(value == expected_bytes(cfg, batch, seq, nbytes), f"{what}: got {value:.0f} bytes")


@pytest.mark.part("mla_cache_bytes")
def test_cache_bytes_kv_heads(sub):
    """kv_cache_bytes: MHA / GQA / MQA의 K/V 캐시 바이트"""
    _check_cache_cases(sub, KV_CASES)


@pytest.mark.part("mla_cache_bytes", weight=2)
def test_cache_bytes_mla(sub):
    """kv_cache_bytes: MLA는 d_latent + d_rope"""
    _check_cache_cases(sub, MLA_CACHE_CASES)


# =========================================================================== linear attention (1)
def phi(x):
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def ref_linear_attention(q, k, v):
    """(..., T, d) arrays; normalised causal linear attention with phi = elu + 1."""
    fq, fk = phi(q), phi(k)
    T = q.shape[-2]
    A = (fq @ np.swapaxes(fk, -1, -2)) * np.tril(np.ones((T, T)))
    return (A @ v) / A.sum(-1, keepdims=True)


def bhtd(a_tbhd):
    return np.transpose(a_tbhd, (1, 2, 0, 3))


LIN_CASES = [  # (B, H, T, d_k, d_v, scale, shift)
    (2, 3, 13, 5, 3, 1.0, 0.0),
    (1, 2, 1, 4, 6, 1.0, 0.0),          # a single token
    (3, 1, 9, 7, 2, 8.0, -4.0),         # large and negative: phi ranges from ~e^-30 to ~30
]


@pytest.mark.part("linear_attention")
@pytest.mark.parametrize("form", ["parallel", "recurrent"])
@pytest.mark.parametrize("B,H,T,dk,dv,scale,shift", LIN_CASES, ids=["T13", "T1", "large_negative"])
def test_linear_attention(sub, form, B, H, T, dk, dv, scale, shift):
    """linear attention: parallel과 recurrent 형태가 기준값과 같다 (float64 유지)"""
    rng = np.random.default_rng([sub.seed, 3000 + T * 10 + dk])
    q = scale * rng.standard_normal((T, B, H, dk)) + shift
    k = scale * rng.standard_normal((T, B, H, dk)) + shift
    v = 5.0 * rng.standard_normal((T, B, H, dv))
    what = (f"linear_attention_{form}(q, k of shape ({B}, {H}, {T}, {dk}), v of shape ({B}, {H}, {T}, {dv}), "
            f"|q|, |k| ~ {abs(scale) + abs(shift):g})")
    got = call(sub, "linear_attention", form, q, k, v, what=what)
    want = ref_linear_attention(bhtd(q), bhtd(k), bhtd(v))
    assert_close(tensor_value(got["value"], what), want, atol=LA_ATOL, rtol=LA_RTOL,
                 what=what + " (causal: output t uses tokens s <= t only; phi = elu + 1; no eps in the denominator)")


# =========================================================================== GLA references
def ref_gla(q, k, v, log_alpha, state=None):
    """The recurrence S_t = diag(alpha_t) S_{t-1} + k_t^T v_t, o_t = q_t S_t on (..., T, d) arrays."""
    T = q.shape[-2]
    S = np.zeros(q.shape[:-2] + (q.shape[-1], v.shape[-1])) if state is None else np.array(state, dtype=np.float64)
    outs = []
    for t in range(T):
        S = np.exp(log_alpha[..., t, :])[..., :, None] * S + k[..., t, :, None] * v[..., t, None, :]
        outs.append(np.einsum("...i,...ij->...j", q[..., t, :], S))
    return np.stack(outs, axis=-2), S


def ref_gla_grads(q, k, v, la, G):
    """Gradients of sum(G * o) for the recurrence, in torch float64 autograd, time-major like the inputs."""
    leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v, la)]
    tq, tk, tv, tl = (leaf.permute(1, 2, 0, 3) for leaf in leaves)
    S = torch.zeros(tq.shape[:-2] + (tq.shape[-1], tv.shape[-1]), dtype=torch.float64)
    outs = []
    for t in range(tq.shape[-2]):
        S = tl[..., t, :, None].exp() * S + tk[..., t, :, None] * tv[..., t, None, :]
        outs.append((tq[..., t, :, None] * S).sum(-2))
    o = torch.stack(outs, dim=-2)
    (o * torch.tensor(G, dtype=torch.float64).permute(1, 2, 0, 3)).sum().backward()
    return [leaf.grad.numpy() for leaf in leaves]


def gla_inputs(rng, B, H, T, dk, dv, gate="moderate", scale=1.0):
    q = scale * rng.standard_normal((T, B, H, dk))
    k = scale * rng.standard_normal((T, B, H, dk))
    v = 3.0 * rng.standard_normal((T, B, H, dv))
    if gate == "moderate":          # alpha = sigmoid(z), z ~ N(1.5, 1): alpha ~ 0.5 .. 0.97
        z = rng.standard_normal((T, B, H, dk)) + 1.5
        log_alpha = -np.logaddexp(0.0, -z)
    elif gate == "long":            # alpha ~ 0.999: long memory, values add up
        log_alpha = -1e-3 * rng.uniform(0.1, 1.0, (T, B, H, dk))
    elif gate == "strong":          # log alpha in [-60, -20]: cumulative sums reach ~ -1500
        log_alpha = -rng.uniform(20.0, 60.0, (T, B, H, dk))
    else:                           # a mix per key dimension: some remember, some forget at once
        log_alpha = np.where(rng.random((T, B, H, dk)) < 0.5, -rng.uniform(30.0, 50.0, (T, B, H, dk)),
                             -rng.uniform(0.0, 0.05, (T, B, H, dk)))
    return q, k, v, log_alpha


def gla_name(fn, B, H, T, dk, dv, gate):
    return f"{fn}(q, k, log_alpha of shape ({B}, {H}, {T}, {dk}), v of shape ({B}, {H}, {T}, {dv}), {gate} gates)"


# =========================================================================== gla_recurrent (2)
GLA_CASES = [  # (B, H, T, d_k, d_v, gate)
    (2, 3, 13, 5, 3, "moderate"),
    (1, 2, 11, 4, 6, "mixed"),
    (3, 1, 1, 7, 2, "moderate"),       # a single token
]


@pytest.mark.part("gla_recurrent")
@pytest.mark.parametrize("B,H,T,dk,dv,gate", GLA_CASES, ids=["T13", "mixed", "T1"])
def test_gla_recurrent(sub, B, H, T, dk, dv, gate):
    """gla_recurrent: 먼저 감쇠하고 k^T v를 더한다"""
    rng = np.random.default_rng([sub.seed, 4000 + T * 10 + dk])
    q, k, v, la = gla_inputs(rng, B, H, T, dk, dv, gate)
    what = gla_name("gla_recurrent", B, H, T, dk, dv, gate)
    got = call(sub, "gla_recurrent", q, k, v, la, [T], what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    o, S = ref_gla(bhtd(q), bhtd(k), bhtd(v), bhtd(la))
    assert_close(tensor_value(got["outs"][0], what), o, atol=LA_ATOL, rtol=LA_RTOL,
                 what=what + ": o (S_t = Diag(alpha_t) S_{t-1} + k_t^T v_t, o_t = q_t S_t)")
    assert_close(tensor_value(got["states"][0], what + ": the returned state"), S, atol=LA_ATOL, rtol=LA_RTOL,
                 what=what + ": returned state S_T")


@pytest.mark.part("gla_recurrent", weight=2)
def test_gla_recurrent_chunks_with_state(sub):
    # a nonzero initial state, then chunks of 5, 1 and 7 tokens, each given the state returned before
    """gla_recurrent: 상태를 이어받아 나눠 돌려도 같고, 받은 상태는 그대로"""
    rng = np.random.default_rng([sub.seed, 4101])
    B, H, T, dk, dv = 2, 3, 13, 5, 4
    q, k, v, la = gla_inputs(rng, B, H, T, dk, dv, "long", scale=2.0)
    S0 = 4.0 * rng.standard_normal((B, H, dk, dv))
    chunks = [5, 1, 7]
    what = gla_name("gla_recurrent", B, H, T, dk, dv, "long-memory") + ", in chunks 5 + 1 + 7 with a given initial state"
    got = call(sub, "gla_recurrent", q, k, v, la, chunks, S0, what=what)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    qb, kb, vb, lb = bhtd(q), bhtd(k), bhtd(v), bhtd(la)
    S, start = S0, 0
    for i, n in enumerate(chunks):
        sl = slice(start, start + n)
        o, S = ref_gla(qb[..., sl, :], kb[..., sl, :], vb[..., sl, :], lb[..., sl, :], S)
        label = f"{what}, call {i + 1} (tokens {start}..{start + n - 1})"
        assert_close(tensor_value(got["outs"][i], label), o, atol=LA_ATOL, rtol=LA_RTOL, what=label + ": o")
        assert_close(tensor_value(got["states"][i], label + ": the returned state"), S, atol=LA_ATOL, rtol=LA_RTOL,
                     what=label + ": returned state")
        # describe() of the given state before and after the call, compared here (not torch.equal in the sandbox)
        before, after = got["given_before"][i], got["given_after"][i]
        expect(before is None or unchanged(after, before.get("value")),
               f"{label}: the state passed in was modified in place")
        start += n


# =========================================================================== gla_parallel (2)
GLA_PAR_CASES = [  # (B, H, T, d_k, d_v, gate, scale)
    (2, 3, 13, 5, 3, "moderate", 1.0),
    (1, 1, 1, 4, 2, "moderate", 1.0),       # a single token
    (3, 2, 9, 1, 6, "long", 7.0),           # d_k = 1 (scalar gate), large magnitudes, long memory
]


@pytest.mark.part("gla_parallel")
@pytest.mark.parametrize("B,H,T,dk,dv,gate,scale", GLA_PAR_CASES, ids=["T13", "T1", "dk1_long"])
def test_gla_parallel(sub, B, H, T, dk, dv, gate, scale):
    """gla_parallel: recurrent 형태와 같은 출력"""
    rng = np.random.default_rng([sub.seed, 5000 + T * 10 + dk])
    q, k, v, la = gla_inputs(rng, B, H, T, dk, dv, gate, scale)
    what = gla_name("gla_parallel", B, H, T, dk, dv, gate)
    got = call(sub, "gla_parallel", q, k, v, la, what=what)
    o, _ = ref_gla(bhtd(q), bhtd(k), bhtd(v), bhtd(la))
    assert_close(tensor_value(got["value"], what), o, atol=LA_ATOL, rtol=LA_RTOL,
                 what=what + " vs the recurrent form (decay prod_{r=s+1..t} alpha_r, s <= t only)")


@pytest.mark.part("gla_parallel", weight=2)
@pytest.mark.parametrize("gate", ["strong", "mixed"])
def test_gla_parallel_extreme_gates(sub, gate):
    # cumulative log-gates far below -745: exp(Lam) underflows to 0 and 1 / exp(Lam) overflows
    """gla_parallel: 아주 강한 감쇠에서도 유한한 출력과 gradient (exp 전에 mask)"""
    rng = np.random.default_rng([sub.seed, 5101 if gate == "strong" else 5102])
    B, H, T, dk, dv = 2, 2, 31, 3, 5
    q, k, v, la = gla_inputs(rng, B, H, T, dk, dv, gate)
    what = gla_name("gla_parallel", B, H, T, dk, dv, gate + " (log alpha down to -60)")
    G = rng.standard_normal((T, B, H, dv))                 # a random upstream gradient, time-major
    got = call(sub, "gla_parallel", q, k, v, la, G, what=what)
    o, _ = ref_gla(bhtd(q), bhtd(k), bhtd(v), bhtd(la))
    assert_close(tensor_value(got["value"], what), o, atol=LA_ATOL, rtol=LA_RTOL,
                 what=what + " (compute Lam_t - Lam_s first and mask s > t BEFORE exp)")
    # The backward pass too: masking AFTER exp (masked_fill / torch.where on exp(Lam_t - Lam_s)) gives
    # the right forward values, but exp overflows above the diagonal and 0 * inf makes the gradient NaN.
    if got["grad_error"]:
        fail(f"{what}: {got['grad_error']}")
    want = ref_gla_grads(q, k, v, la, G)
    for name, have, w in zip(("q", "k", "v", "log_alpha"), got["grads"], want):
        if have is None:
            fail(f"{what}: no gradient reached {name}")
        expect(np.all(np.isfinite(have)), f"{what}: the gradient of {name} has NaN/inf: exp overflowed above the "
                                          "diagonal before the mask; mask (to -inf) BEFORE exp")
        # float64 on both sides; the parallel and recurrent forms differ in the order of the sums
        # (~1e-13 relative); 1e-7 is far below any wrong decay (O(1) changes).
        assert_close(have, w, atol=1e-7, rtol=1e-7, what=f"{what}: d(sum G * o)/d {name} with a random G")
