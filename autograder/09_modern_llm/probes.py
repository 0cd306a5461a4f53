"""Probes for 09_modern_llm. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation: the pieces that belong to OTHER parts are swapped for
the reference versions below for the duration of one probe, so a mistake in one part never costs
points in another (the notebook tells students so):

  rmsnorm  the student's RMSNorm.forward.
  rope     the student's apply_rope (and rotate_half, which it may call).
  swiglu   the student's SwiGLU.forward.
  gqa      the student's repeat_kv, GroupedQueryAttention.forward and kv_cache_bytes;
           reference apply_rope / rotate_half and the given causal_attention.
  moe      the student's route, load_balancing_loss and MoE.forward; reference SwiGLU.forward.

Weights come from the judge as arrays (a state_dict by name) and modules run in float64. Probes
only run the student's code and report what it produced; every expected value is computed by the
hidden tests in the judge process.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

_MISSING = object()


# --------------------------------------------------------------------------- reference pieces
def _ref_rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def _ref_apply_rope(x, positions, base=10000.0):
    d = x.shape[-1]
    inv_freq = base ** (-torch.arange(0, d // 2, dtype=x.dtype) * 2 / d)
    ang = torch.as_tensor(positions).to(x.dtype).unsqueeze(-1) * inv_freq
    ang = torch.cat([ang, ang], dim=-1)
    if ang.dim() == 3:
        ang = ang.unsqueeze(1)
    return x * ang.cos() + _ref_rotate_half(x) * ang.sin()


def _ref_causal_attention(q, k, v):
    T, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    i = torch.arange(S - T, S).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    scores = scores.masked_fill(j > i, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _ref_swiglu_forward(self, x):
    return self.w_down(F.silu(self.w_gate(x)) * self.w_up(x))


class _Swap:
    """Temporarily replace class attributes (methods) and notebook globals by reference ones."""

    def __init__(self, methods=(), globals_=()):
        self.methods = list(methods)      # (class name, attribute, value)
        self.globals = list(globals_)     # (name, value)
        self.saved = []

    def __enter__(self):
        for cls_name, attr, value in self.methods:
            cls = getattr(student, cls_name)
            self.saved.append(("m", cls, attr, cls.__dict__.get(attr, _MISSING)))
            setattr(cls, attr, value)
        for name, value in self.globals:
            self.saved.append(("g", None, name, getattr(student, name) if name in student else _MISSING))
            setattr(student, name, value)
        return self

    def __exit__(self, *exc):
        for kind, cls, attr, old in reversed(self.saved):
            if kind == "m":
                if old is _MISSING:
                    try:
                        delattr(cls, attr)
                    except AttributeError:
                        pass
                else:
                    setattr(cls, attr, old)
            elif old is not _MISSING:
                setattr(student, attr, old)
        return False


_GQA_REFS = [("apply_rope", _ref_apply_rope), ("rotate_half", _ref_rotate_half),
             ("causal_attention", _ref_causal_attention)]


# --------------------------------------------------------------------------- helpers
def _t(a, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype)


def _load(module, weights):
    """float64 copy of the module with the judge's weights (every parameter must be given)."""
    module = module.double()
    module.load_state_dict({name: _t(value) for name, value in weights.items()}, strict=True)
    module.eval()
    return module


def _arr(x):
    """A tensor as a float64 / int64 array (0-d as a float), or a string saying what it was."""
    if x is None:
        return "None"
    if isinstance(x, torch.Tensor):
        a = x.detach().cpu()
        if a.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
            a = a.numpy().astype(np.int64)
        else:
            a = a.double().numpy()
        return float(a) if a.ndim == 0 else a
    return f"<{type(x).__module__}.{type(x).__qualname__}>"


def _btc(x_tbc, dtype=torch.float64):
    """x arrives as (T, B, C); the student gets the (B, T, C) view, which is not contiguous."""
    return _t(x_tbc, dtype).permute(1, 0, 2)


def _grad(t):
    return _arr(t.grad) if t.grad is not None else "None"


# --------------------------------------------------------------------------- rmsnorm
def rmsnorm(x_tbc, weight, eps, upstream=None, dtype="float64"):
    """Student's RMSNorm(dim, eps) with the given weight on a non-contiguous (B, T, C) input.

    With `upstream`, backward of (out * upstream).sum(); the grads of x and weight come back."""
    dt = getattr(torch, dtype)
    dim = int(np.shape(weight)[0])
    norm = student.RMSNorm(dim, eps=float(eps)).to(dt)
    norm.load_state_dict({"weight": _t(weight, dt)}, strict=True)
    base = _t(x_tbc, dt).requires_grad_(upstream is not None)
    x = base.permute(1, 0, 2)
    before = x.detach().clone()
    out = norm(x)
    report = {"type": type_name(out), "dtype": str(getattr(out, "dtype", "")), "value": _arr(out),
              "x_unchanged": bool(torch.equal(before, x.detach()))}
    if upstream is not None and isinstance(out, torch.Tensor) and out.requires_grad:
        (out * _t(upstream, out.dtype)).sum().backward()
        report["x_grad"] = _arr(base.grad.permute(1, 0, 2)) if base.grad is not None else "None"
        report["w_grad"] = _grad(norm.weight)
    return report


# --------------------------------------------------------------------------- rope
def rope(x_bthd, positions, base=None, dtype="float64"):
    """Student's apply_rope on the (B, H, T, d) view of an array sent as (B, T, H, d)
    (non-contiguous, as in attention); positions as an int64 tensor."""
    dt = getattr(torch, dtype)
    x = _t(x_bthd, dt).transpose(1, 2)
    before = x.clone()
    pos = torch.tensor(np.asarray(positions), dtype=torch.long)
    pos_before = pos.clone()
    out = student.apply_rope(x, pos) if base is None else student.apply_rope(x, pos, float(base))
    return {"type": type_name(out), "dtype": str(getattr(out, "dtype", "")), "value": _arr(out),
            "x_unchanged": bool(torch.equal(before, x)), "positions_unchanged": bool(torch.equal(pos, pos_before))}


# --------------------------------------------------------------------------- swiglu
def swiglu(d_model, d_hidden, weights, x_tbc):
    """Student's SwiGLU with the judge's weights on a non-contiguous (B, T, C) float64 input."""
    ffn = _load(student.SwiGLU(int(d_model), int(d_hidden)), weights)
    x = _btc(x_tbc)
    with torch.no_grad():
        out = ffn(x)
    return {"type": type_name(out), "value": _arr(out)}


# --------------------------------------------------------------------------- gqa
def repeat_kv(x, n_rep):
    x_t = _t(x)
    out = student.repeat_kv(x_t, int(n_rep))
    return {"type": type_name(out), "value": _arr(out)}


def _unpack(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        return None, f"{what} must return (out, (k, v)), got {type_name(result)}"
    out, kv = result
    if not isinstance(kv, tuple) or len(kv) != 2:
        return None, f"{what} must return (out, (k, v)); the second item is {type_name(kv)}"
    return (out, kv), None


def gqa(cfg, weights, x_tbc, steps):
    """Student's GroupedQueryAttention (reference RoPE and causal_attention) on a non-contiguous
    (B, T_total, C) input, fed in consecutive chunks: steps = [[n_tokens, positions], ...].
    The first chunk gets past_kv=None, every later one the (k, v) the previous call returned.
    positions is (n,) or (B, n). Reports each chunk's output and returned cache."""
    with _Swap(globals_=_GQA_REFS):
        attn = _load(student.GroupedQueryAttention(int(cfg["d_model"]), int(cfg["n_heads"]),
                                                   int(cfg["n_kv_heads"]), float(cfg.get("rope_base", 10000.0))),
                     weights)
        x = _btc(x_tbc)
        report = {"outs": [], "ks": [], "vs": [], "error": None}
        start, past = 0, None
        with torch.no_grad():
            for n, positions in steps:
                chunk = x[:, start:start + int(n)]
                result = attn(chunk, torch.tensor(np.asarray(positions), dtype=torch.long), past)
                unpacked, error = _unpack(result, "GroupedQueryAttention.forward")
                if error:
                    report["error"] = error
                    break
                out, past = unpacked
                report["outs"].append(_arr(out))
                report["ks"].append(_arr(past[0]))
                report["vs"].append(_arr(past[1]))
                start += int(n)
    return report


def gqa_with_past(cfg, weights, x_tbc, positions, past_k, past_v):
    """Student's GroupedQueryAttention given a judge-made past (k, v) (already rotated keys)."""
    with _Swap(globals_=_GQA_REFS):
        attn = _load(student.GroupedQueryAttention(int(cfg["d_model"]), int(cfg["n_heads"]),
                                                   int(cfg["n_kv_heads"]), float(cfg.get("rope_base", 10000.0))),
                     weights)
        x = _btc(x_tbc)
        with torch.no_grad():
            result = attn(x, torch.tensor(np.asarray(positions), dtype=torch.long), (_t(past_k), _t(past_v)))
    unpacked, error = _unpack(result, "GroupedQueryAttention.forward")
    if error:
        return {"error": error}
    out, (k, v) = unpacked
    return {"error": None, "out": _arr(out), "k": _arr(k), "v": _arr(v)}


def kv_cache_bytes(args):
    """Student's kv_cache_bytes on each argument tuple; values and their type names."""
    values, types = [], []
    for a in args:
        out = student.kv_cache_bytes(*[int(v) for v in a])
        types.append(type_name(out))
        try:
            values.append(float(out))
        except Exception:  # noqa: BLE001 - reported as NaN, the type name says what it was
            values.append(float("nan"))
    return {"values": values, "types": types}


# --------------------------------------------------------------------------- moe
def route(logits, k):
    z = _t(logits)
    before = z.clone()
    result = student.route(z, int(k))
    if not isinstance(result, tuple) or len(result) != 3:
        return {"error": f"route must return (probs, gates, experts), got {type_name(result)}"}
    probs, gates, experts = result
    return {"error": None, "probs": _arr(probs), "gates": _arr(gates), "experts": _arr(experts),
            "experts_dtype": str(getattr(experts, "dtype", "")), "logits_unchanged": bool(torch.equal(before, z))}


def aux_loss(logits, experts, alpha, upstream):
    """Student's load_balancing_loss(softmax(logits), experts, alpha); logits require grad and the
    loss is backpropagated with the scalar `upstream`; reports value, shape and d/dlogits."""
    z = _t(logits).requires_grad_(True)
    probs = torch.softmax(z, dim=-1)
    idx = torch.tensor(np.asarray(experts), dtype=torch.long)
    loss = student.load_balancing_loss(probs, idx, float(alpha))
    report = {"type": type_name(loss), "shape": None, "value": None, "grad": "None"}
    if not isinstance(loss, torch.Tensor):
        try:
            report["value"] = float(loss)
        except Exception:  # noqa: BLE001
            pass
        return report
    report["shape"] = list(loss.shape)
    if loss.numel() != 1:
        return report
    report["value"] = float(loss.detach().reshape(-1)[0])
    if loss.requires_grad:
        loss.reshape(()).backward(torch.tensor(float(upstream), dtype=loss.dtype))
        report["grad"] = _grad(z)
    return report


def moe(cfg, weights, x_tbc, upstream=None, aux_upstream=None):
    """Student's MoE (reference SwiGLU experts) on a non-contiguous (B, T, C) float64 input.

    With upstream / aux_upstream: backward of (y * upstream).sum() + aux_upstream * aux, and the
    gradient of the router weight comes back."""
    with _Swap(methods=[("SwiGLU", "forward", _ref_swiglu_forward)]):
        layer = _load(student.MoE(int(cfg["d_model"]), int(cfg["d_hidden"]), int(cfg["n_experts"]),
                                  int(cfg["top_k"]), float(cfg["alpha"])), weights)
        x = _btc(x_tbc)
        result = layer(x)
        if not isinstance(result, tuple) or len(result) != 2:
            return {"error": f"MoE.forward must return (y, aux_loss), got {type_name(result)}"}
        y, aux = result
        report = {"error": None, "y": _arr(y), "aux": _arr(aux), "router_grad": "None"}
        if upstream is not None and isinstance(y, torch.Tensor) and isinstance(aux, torch.Tensor):
            total = (y * _t(upstream)).sum() + float(aux_upstream) * aux.reshape(-1)[0]
            if total.requires_grad:
                total.backward()
                report["router_grad"] = _grad(layer.router.weight)
    return report
