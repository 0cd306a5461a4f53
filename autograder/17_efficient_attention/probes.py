"""Probes for 17_efficient_attention. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation: the GIVEN helpers (read-only cells, not graded) are
swapped for copies of themselves for the duration of one probe, so an edited given cell changes
nothing, and no part's probe calls another part's function. Nothing here answers a graded part:

  mla_forward      the student's MultiHeadLatentAttention.forward; given causal_mask and
                   causal_attention (the forward must not need absorbed_attention).
  mla_absorbed     the student's absorbed_attention on a plain object that carries the judge's
                   weights under the notebook's names (no student class involved); k_up / v_up
                   hold a weight and cannot be called; given causal_mask.
  mla_cache_bytes  the student's kv_cache_bytes.
  linear_attention the student's linear_attention_parallel / _recurrent; given elu_feature_map.
  gla_recurrent    the student's gla_recurrent.
  gla_parallel     the student's gla_parallel.

Inputs arrive time-major ((T, ...) first) and the student gets a permuted, non-contiguous view.
Everything runs in float64. Probes only run the student's code and report what it produced, read
by the platform's describe() (C-level facts: a cell may patch torch.equal or return a lying Tensor
subclass); inputs that must stay untouched are sent back as describe() read them after the call
and judged in the test. Every expected value is computed by the hidden tests in the judge process.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_MISSING = object()


# --------------------------------------------------------------------------- given helpers
# Copies of the notebook's GIVEN (read-only, ungraded) helpers, swapped in so that a student who
# edited a given cell grades the same as one who did not. None of them answers a graded part.
def _given_causal_mask(T, S, device=None):
    query_pos = torch.arange(S - T, S, device=device).unsqueeze(1)
    key_pos = torch.arange(S, device=device).unsqueeze(0)
    return key_pos <= query_pos


def _given_causal_attention(q, k, v):
    T, S = q.shape[-2], k.shape[-2]
    if S < T:
        raise ValueError(f"{T} queries but only {S} keys")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~_given_causal_mask(T, S, q.device), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _given_elu_feature_map(x):
    return F.elu(x) + 1.0


class _Swap:
    """Temporarily put copies of the given helpers under their notebook names."""

    def __init__(self, globals_=()):
        self.globals = list(globals_)
        self.saved = []

    def __enter__(self):
        for name, value in self.globals:
            self.saved.append((name, getattr(student, name) if name in student else _MISSING))
            setattr(student, name, value)
        return self

    def __exit__(self, *exc):
        for name, old in reversed(self.saved):
            if old is not _MISSING:
                setattr(student, name, old)
        return False


_MLA_GIVEN = [("causal_mask", _given_causal_mask), ("causal_attention", _given_causal_attention)]


class _WeightOnly:
    """A weight holder that cannot be called: the absorbed path must not up-project the cache."""

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, *args, **kwargs):
        raise TypeError("absorbed_attention called mla.k_up / mla.v_up: the absorbed path must not "
                        "up-project the cache; use mla.k_up.weight / mla.v_up.weight as matrices")


# --------------------------------------------------------------------------- helpers
def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def _arr(x):
    """A float64 tensor's values (0-d as a float), or a string saying what came back instead. The
    type and dtype are read by the sandbox's describe() BEFORE any conversion: every input here is
    float64, and a result in another dtype is reported as such, not converted."""
    if x is None:
        return "None"
    d = describe(x)
    if d["type"] != "torch.Tensor" or d.get("exact") is not True:   # a subclass answers for itself: refused
        return f"<{d['type']}>"
    if d["dtype"] != "float64":
        return f"a torch.Tensor of dtype {d['dtype']} (the inputs are float64: keep their dtype)"
    a = np.asarray(d["value"], dtype=np.float64)
    return float(a) if a.ndim == 0 else a


def _btc(x_tbc):
    """(T, B, C) array -> the student's (B, T, C) view, not contiguous."""
    return _t(x_tbc).permute(1, 0, 2)


def _bhtd(x_tbhd):
    """(T, B, H, d) array -> the student's (B, H, T, d) view, not contiguous."""
    return _t(x_tbhd).permute(1, 2, 0, 3)


def _load_mla(cfg, weights):
    mla = student.MultiHeadLatentAttention(int(cfg["d_model"]), int(cfg["n_heads"]), int(cfg["d_head"]),
                                           int(cfg["d_latent"])).double()
    mla.load_state_dict({name: _t(value) for name, value in weights.items()}, strict=True)
    return mla.eval()


def _pair(result):
    """Whether describe() sees a genuine 2-tuple (not isinstance/len, which a class can answer)."""
    d = describe(result)
    return d["type"] == "builtins.tuple" and len(d.get("items") or ()) == 2


def _unpack(result):
    if not _pair(result):
        return None, f"MultiHeadLatentAttention.forward must return (out, c_kv), got {type_name(result)}"
    return result, None


def _graph_facts(out):
    """(is a plain tensor, requires grad, shape) of a result, read by describe() (C-level facts):
    a cell may patch torch.Tensor.requires_grad or return a subclass that lies."""
    d = describe(out)
    plain = d["type"] == "torch.Tensor" and d.get("exact") is True
    return plain, plain and d["requires_grad"] is True, (tuple(d["shape"]) if plain else None)


def _grad_values(t):
    """t.grad's values, read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)
    and converted by describe() (not .numpy(), which a cell may patch); None if no grad."""
    g = torch._C.TensorBase.__dict__["grad"].__get__(t)
    return None if g is None else np.asarray(describe(g)["value"], dtype=np.float64)


# --------------------------------------------------------------------------- mla_forward
def mla(cfg, weights, x_tbc, steps):
    """Student's MLA on a non-contiguous (B, T_total, C) input fed in consecutive chunks of the
    given sizes: the first call gets past_latent=None, every later one the cache the previous
    call returned. Reports each call's output and returned cache."""
    report = {"outs": [], "caches": [], "error": None}
    with _Swap(_MLA_GIVEN), torch.no_grad():
        layer = _load_mla(cfg, weights)
        x = _btc(x_tbc)
        start, past = 0, None
        for n in steps:
            unpacked, error = _unpack(layer(x[:, start:start + int(n)], past))
            if error:
                report["error"] = error
                break
            out, past = unpacked
            report["outs"].append(_arr(out))
            report["caches"].append(_arr(past))
            start += int(n)
    return report


def mla_with_past(cfg, weights, x_tbc, past_pbc):
    """Student's MLA given a judge-made latent cache (P, B, d_latent) -> non-contiguous (B, P, d_latent)."""
    with _Swap(_MLA_GIVEN), torch.no_grad():
        layer = _load_mla(cfg, weights)
        past = _btc(past_pbc)
        unpacked, error = _unpack(layer(_btc(x_tbc), past))
    if error:
        return {"error": error}
    out, cache = unpacked
    # past as it is now, (B, P, d_latent); the judge decides whether it still holds what it sent
    return {"error": None, "out": _arr(out), "cache": _arr(cache), "past_after": describe(past)}


def mla_grad(cfg, weights, x_tbc, upstream):
    """Student's MLA forward (no past) WITH autograd on a non-contiguous (B, T, C) view of a leaf x;
    backpropagates sum(G * out) (G: a (T, B, C) array) and reports the gradients of every
    parameter (by state_dict name) and of x, time-major."""
    with _Swap(_MLA_GIVEN):
        layer = _load_mla(cfg, weights)
        leaf = _t(x_tbc).requires_grad_(True)
        unpacked, error = _unpack(layer(leaf.permute(1, 0, 2), None))
        if error:
            return {"error": error}
        out = unpacked[0]
        if not _graph_facts(out)[1]:
            return {"error": "the output does not require grad: the forward cut the graph (detach, no_grad, .data)"}
        (out * _btc(upstream)).sum().backward()
    grads = {name: _grad_values(p) for name, p in layer.named_parameters()}
    return {"error": None, "grads": grads, "grad_x": _grad_values(leaf)}


# --------------------------------------------------------------------------- mla_absorbed
def absorbed(cfg, weights, x_tbc, c_sbc):
    """Student's absorbed_attention on a plain weight object (no student class) for x
    (B, T, C) and the latent cache c_kv (B, S, d_latent), both non-contiguous."""
    H, dh, dc, C = int(cfg["n_heads"]), int(cfg["d_head"]), int(cfg["d_latent"]), int(cfg["d_model"])
    obj = nn.Module()
    obj.n_heads, obj.d_head, obj.d_latent = H, dh, dc
    obj.q_proj = nn.Linear(C, H * dh, bias=False).double()
    obj.o_proj = nn.Linear(H * dh, C, bias=False).double()
    with torch.no_grad():
        obj.q_proj.weight.copy_(_t(weights["q_proj.weight"]))
        obj.o_proj.weight.copy_(_t(weights["o_proj.weight"]))
    obj.kv_down = _WeightOnly(_t(weights["kv_down.weight"]))
    obj.k_up = _WeightOnly(_t(weights["k_up.weight"]))
    obj.v_up = _WeightOnly(_t(weights["v_up.weight"]))
    x = _btc(x_tbc)
    c_kv = _btc(c_sbc)
    with _Swap([("causal_mask", _given_causal_mask)]), torch.no_grad():
        out = student.absorbed_attention(obj, x, c_kv)
    # c_kv as it is now, (B, S, d_latent); the judge decides whether it still holds what it sent
    return {"type": type_name(out), "value": _arr(out), "cache_after": describe(c_kv)}


# --------------------------------------------------------------------------- mla_cache_bytes
def cache_bytes(cases):
    """Student's kv_cache_bytes(cfg, batch, seq_len, bytes_per_elem) for each case."""
    values, types = [], []
    for cfg, batch, seq_len, nbytes in cases:
        out = student.kv_cache_bytes(dict(cfg), int(batch), int(seq_len), int(nbytes))
        types.append(type_name(out))
        try:
            values.append(float(out))
        except Exception:  # noqa: BLE001 - reported as NaN, the type name says what it was
            values.append(float("nan"))
    return {"values": values, "types": types}


# --------------------------------------------------------------------------- linear attention
def linear_attention(form, q, k, v):
    """Student's linear_attention_<form> on (B, H, T, d) views of (T, B, H, d) arrays."""
    fn = {"parallel": "linear_attention_parallel", "recurrent": "linear_attention_recurrent"}[form]
    qt, kt, vt = _bhtd(q), _bhtd(k), _bhtd(v)
    with _Swap([("elu_feature_map", _given_elu_feature_map)]), torch.no_grad():
        out = getattr(student, fn)(qt, kt, vt)
    return {"type": type_name(out), "value": _arr(out)}


# --------------------------------------------------------------------------- gla
def gla_recurrent(q, k, v, log_alpha, chunks, state=None):
    """Student's gla_recurrent over consecutive chunks of the given sizes, each call getting the
    state the previous call returned (the first gets `state`, None or a (B, H, d_k, d_v) array
    made non-contiguous). Reports outputs, states, and each given state as describe() read it
    before and after its call: the judge decides whether it was left unchanged."""
    qt, kt, vt, lt = _bhtd(q), _bhtd(k), _bhtd(v), _bhtd(log_alpha)
    S = None if state is None else _t(np.swapaxes(np.asarray(state), 0, 1)).transpose(0, 1)
    report = {"outs": [], "states": [], "given_before": [], "given_after": [], "error": None}
    start = 0
    with torch.no_grad():
        for n in chunks:
            sl = slice(start, start + int(n))
            before = None if S is None else describe(S)
            result = student.gla_recurrent(qt[..., sl, :], kt[..., sl, :], vt[..., sl, :], lt[..., sl, :], S)
            if not _pair(result):
                report["error"] = f"gla_recurrent must return (o, state), got {type_name(result)}"
                break
            report["given_before"].append(before)
            report["given_after"].append(None if S is None else describe(S))
            out, S = result
            report["outs"].append(_arr(out))
            report["states"].append(_arr(S))
            start += int(n)
    return report


def gla_parallel(q, k, v, log_alpha, upstream=None):
    """Student's gla_parallel on (B, H, T, d) views. With `upstream` (a (T, B, H, d_v) array G), also
    backpropagates sum(G * o) and reports the gradients of q, k, v and log_alpha, time-major."""
    if upstream is None:
        qt, kt, vt, lt = _bhtd(q), _bhtd(k), _bhtd(v), _bhtd(log_alpha)
        with torch.no_grad():
            out = student.gla_parallel(qt, kt, vt, lt)
        return {"type": type_name(out), "value": _arr(out)}
    leaves = [_t(a).requires_grad_(True) for a in (q, k, v, log_alpha)]
    out = student.gla_parallel(*(leaf.permute(1, 2, 0, 3) for leaf in leaves))
    report = {"type": type_name(out), "value": _arr(out), "grads": None, "grad_error": None}
    _, requires_grad, shape = _graph_facts(out)   # describe()'s facts, not the object's own answers
    if not requires_grad:
        report["grad_error"] = "the result does not require grad: no gradient can flow back to q, k, v, log_alpha"
        return report
    g = _bhtd(upstream)
    if shape != tuple(int(n) for n in g.shape):
        report["grad_error"] = f"the result has shape {shape}, so the gradient check could not run"
        return report
    (out * g).sum().backward()
    report["grads"] = [_grad_values(leaf) for leaf in leaves]
    return report
