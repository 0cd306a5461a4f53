"""Probes for 09_modern_llm. They run INSIDE the sandbox, next to the student's notebook.

This file is public (a notebook can read anything that enters the sandbox): it holds no reference
solution and no expected value. Probes run the student's code on the judge's inputs and report
what came back, untouched (type, dtype, shape, requires_grad, device) before any conversion.

Where a part must be graded apart from another one, the other part's function is swapped for a
STAND-IN that is deliberately not a solution, whose effect the judge computes itself:

  gqa  apply_rope is replaced by `x * table[positions] * log(base) / log(10000)`, with a random
       per-position table the judge sends; causal_attention by the notebook's given one.
  moe  SwiGLU.forward is replaced by `w_down(tanh(w_gate(x)) * w_up(x))`.
"""
import math

import numpy as np
import torch

_MISSING = object()
_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


# --------------------------------------------------------------------------- stand-ins (not solutions)
def _given_causal_attention(q, k, v):
    """The notebook's given causal_attention (read-only cell), in case a notebook redefined it."""
    T, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    i = torch.arange(S - T, S).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    scores = scores.masked_fill(j > i, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _stand_in_rope(table):
    """apply_rope's stand-in for the gqa part: a per-position, per-channel scaling (no rotation)."""
    table = torch.as_tensor(np.asarray(table), dtype=torch.float64)

    def apply_rope(x, positions, base=10000.0):
        scale = table.to(x.dtype)[torch.as_tensor(positions, dtype=torch.long)]   # (T, d) or (B, T, d)
        if scale.dim() == 3:
            scale = scale.unsqueeze(1)
        return x * scale * (math.log(float(base)) / math.log(10000.0))
    return apply_rope


def _stand_in_expert_forward(self, x):
    """SwiGLU.forward's stand-in for the moe part (tanh gate: not the SwiGLU of the notebook)."""
    return self.w_down(torch.tanh(self.w_gate(x)) * self.w_up(x))


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


def _gqa_stand_ins(table):
    return [("apply_rope", _stand_in_rope(table)), ("causal_attention", _given_causal_attention)]


# --------------------------------------------------------------------------- helpers
def _t(a, dtype=torch.float64):
    return torch.tensor(np.asarray(a), dtype=dtype)


def _load(module, weights):
    """float64 copy of the module with the judge's weights (every parameter must be given)."""
    module = module.double()
    module.load_state_dict({name: _t(value) for name, value in weights.items()}, strict=True)
    module.eval()
    return module


def _info(value, **inputs):
    """What the student returned, read by the platform's describe() before any conversion (C-level
    facts: a cell that patches torch, or a Tensor subclass that lies about its dtype or
    requires_grad, changes nothing here): type, dtype, shape, requires_grad, device, and which of
    the given inputs it shares memory with. A subclass of torch.Tensor reports its own type name
    and no dtype: the judge decides every property from this."""
    facts = describe(value, inputs=inputs)
    info = {"type": facts.get("type"), "dtype": "", "shape": None, "requires_grad": None, "device": "", "aliases": []}
    if _genuine_tensor(facts):
        info.update(dtype="torch." + facts["dtype"], shape=list(facts["shape"]), requires_grad=facts["requires_grad"],
                    device=facts["device"], aliases=list(facts.get("aliases") or []))
    return info


def _genuine_tensor(facts) -> bool:
    return bool(facts.get("exact")) and facts.get("type") in ("torch.Tensor", "torch.nn.parameter.Parameter")


def _differentiable(value) -> bool:
    """A genuine tensor that requires grad, as describe() reads it: only then is backward tried."""
    facts = describe(value)
    return _genuine_tensor(facts) and facts.get("requires_grad") is True


def _arr(x):
    """A tensor's values as a float64 / int64 array (0-d as a float), or a string saying what it
    was. Read from describe()'s copy of the values, never through the object's own methods."""
    if x is None:
        return "None"
    facts = describe(x)
    value = facts.get("value")
    if not _genuine_tensor(facts) or type(value) is not np.ndarray or value.dtype.kind not in "biuf":
        return f"<{facts.get('type')}>"
    a = value.astype(np.int64) if value.dtype.kind in "iu" else value.astype(np.float64)
    return float(a) if a.ndim == 0 else a


def _btc(x_tbc, dtype=torch.float64):
    """x arrives as (T, B, C); the student gets the (B, T, C) view, which is not contiguous."""
    return _t(x_tbc, dtype).permute(1, 0, 2)


def _grad(t):
    g = _grad_of(t)
    return _arr(g) if g is not None else "None"


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
    out = norm(x)
    report = {**_info(out, x=x), "value": _arr(out), "x_after": describe(x)}   # "unchanged": the judge decides
    if upstream is not None and _differentiable(out):
        (out * _t(upstream, out.dtype)).sum().backward()
        report["x_grad"] = _arr(_grad_of(base).permute(1, 0, 2)) if _grad_of(base) is not None else "None"
        report["w_grad"] = _grad(norm.weight)
    return report


# --------------------------------------------------------------------------- rope
def rope(x_bthd, positions, base=None, dtype="float64", upstream=None):
    """Student's apply_rope on the (B, H, T, d) view of an array sent as (B, T, H, d)
    (non-contiguous, as in attention); positions as an int64 tensor.

    With `upstream` (B, H, T, d), x requires grad and the grad of (out * upstream).sum() comes back."""
    dt = getattr(torch, dtype)
    base_x = _t(x_bthd, dt).requires_grad_(upstream is not None)
    x = base_x.transpose(1, 2)
    pos = torch.tensor(np.asarray(positions), dtype=torch.long)
    out = student.apply_rope(x, pos) if base is None else student.apply_rope(x, pos, float(base))
    report = {**_info(out, x=x, positions=pos), "value": _arr(out),
              "x_after": describe(x), "positions_after": describe(pos)}   # "unchanged": the judge decides
    if upstream is not None:
        report["x_grad"] = "None"
        if _differentiable(out):
            (out * _t(upstream, out.dtype)).sum().backward()
            if _grad_of(base_x) is not None:
                report["x_grad"] = _arr(_grad_of(base_x).transpose(1, 2))
    return report


# --------------------------------------------------------------------------- swiglu
def swiglu(d_model, d_hidden, weights, x_tbc, upstream=None):
    """Student's SwiGLU with the judge's weights on a non-contiguous (B, T, C) float64 input.
    With `upstream`: the grads of x and w_gate.weight for (out * upstream).sum()."""
    ffn = _load(student.SwiGLU(int(d_model), int(d_hidden)), weights)
    base = _t(x_tbc).requires_grad_(upstream is not None)
    x = base.permute(1, 0, 2)
    out = ffn(x)
    report = {**_info(out, x=x), "value": _arr(out)}
    if upstream is not None:
        report["x_grad"] = report["gate_grad"] = "None"
        if _differentiable(out):
            (out * _t(upstream)).sum().backward()
            if _grad_of(base) is not None:
                report["x_grad"] = _arr(_grad_of(base).permute(1, 0, 2))
            report["gate_grad"] = _grad(ffn.w_gate.weight)
    return report


# --------------------------------------------------------------------------- gqa
def repeat_kv(x, n_rep):
    x_t = _t(x)
    out = student.repeat_kv(x_t, int(n_rep))
    return {**_info(out, x=x_t), "value": _arr(out)}


def _unpack(result, what):
    if tuple not in _MRO(type(result)) or len(result) != 2:
        return None, f"{what} must return (out, (k, v)), got {type_name(result)}"
    out, kv = result
    if tuple not in _MRO(type(kv)) or len(kv) != 2:
        return None, f"{what} must return (out, (k, v)); the second item is {type_name(kv)}"
    return (out, kv), None


def _attention(cfg, weights):
    return _load(student.GroupedQueryAttention(int(cfg["d_model"]), int(cfg["n_heads"]), int(cfg["n_kv_heads"]),
                                               float(cfg.get("rope_base", 10000.0))), weights)


def gqa(cfg, weights, x_tbc, steps, rope_table, upstream=None):
    """Student's GroupedQueryAttention (stand-in RoPE from rope_table, the given causal_attention)
    on a non-contiguous (B, T_total, C) input, fed in consecutive chunks: steps = [[n_tokens,
    positions], ...]. The first chunk gets past_kv=None, every later one the (k, v) the previous
    call returned. positions is (n,) or (B, n). Reports each chunk's output and returned cache.
    With `upstream` (shaped like the first call's output), the first call runs with autograd and
    the gradients of (out * upstream).sum() w.r.t. x and k_proj.weight come back."""
    with _Swap(globals_=_gqa_stand_ins(rope_table)):
        attn = _attention(cfg, weights)
        base = _t(x_tbc).requires_grad_(upstream is not None)
        x = base.permute(1, 0, 2)
        report = {"outs": [], "ks": [], "vs": [], "infos": [], "error": None, "x_grad": "None", "k_proj_grad": "None"}
        start, past = 0, None
        for i, (n, positions) in enumerate(steps):
            with torch.set_grad_enabled(upstream is not None and i == 0):
                chunk = x[:, start:start + int(n)]
                result = attn(chunk, torch.tensor(np.asarray(positions), dtype=torch.long), past)
                unpacked, error = _unpack(result, "GroupedQueryAttention.forward")
                if error:
                    report["error"] = error
                    break
                out, past = unpacked
                report["infos"].append({"out": _info(out), "k": _info(past[0]), "v": _info(past[1])})
                if i == 0 and upstream is not None and _differentiable(out):
                    (out * _t(upstream)).sum().backward()
                    report["x_grad"] = _arr(_grad_of(base).permute(1, 0, 2)) if _grad_of(base) is not None else "None"
                    report["k_proj_grad"] = _grad(attn.k_proj.weight)
                report["outs"].append(_arr(out))
                report["ks"].append(_arr(past[0]))
                report["vs"].append(_arr(past[1]))
                start += int(n)
    return report


def gqa_gradients(cfg, weights, x_tbc, positions, rope_table, upstream):
    """One call without a cache, then backward of (out * upstream).sum(): the gradients of x and of
    the four projection weights come back (the layer is trained through this forward)."""
    with _Swap(globals_=_gqa_stand_ins(rope_table)):
        attn = _attention(cfg, weights)
        base = _t(x_tbc).requires_grad_(True)
        result = attn(base.permute(1, 0, 2), torch.tensor(np.asarray(positions), dtype=torch.long))
        unpacked, error = _unpack(result, "GroupedQueryAttention.forward")
        if error:
            return {"error": error}
        out, _ = unpacked
        report = {"error": None, "x": "None", **{name: "None" for name in ("q_proj", "k_proj", "v_proj", "o_proj")}}
        if _differentiable(out):
            (out * _t(upstream)).sum().backward()
            if _grad_of(base) is not None:
                report["x"] = _arr(_grad_of(base).permute(1, 0, 2))
            for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
                report[name] = _grad(getattr(attn, name).weight)
    return report


def gqa_with_past(cfg, weights, x_tbc, positions, past_k, past_v, rope_table):
    """Student's GroupedQueryAttention given a judge-made past (k, v) (already rotated keys)."""
    with _Swap(globals_=_gqa_stand_ins(rope_table)):
        attn = _attention(cfg, weights)
        x = _btc(x_tbc)
        pk, pv = _t(past_k), _t(past_v)
        with torch.no_grad():
            result = attn(x, torch.tensor(np.asarray(positions), dtype=torch.long), (pk, pv))
    unpacked, error = _unpack(result, "GroupedQueryAttention.forward")
    if error:
        return {"error": error}
    out, (k, v) = unpacked
    return {"error": None, "out": _arr(out), "k_info": _info(k, past_k=pk), "k": _arr(k), "v": _arr(v),
            "past_after": [describe(pk), describe(pv)]}   # "unchanged": the judge decides


def kv_cache_bytes(args):
    """Student's kv_cache_bytes on each argument tuple; values and their type names."""
    values, types = [], []
    for a in args:
        out = student.kv_cache_bytes(*[int(v) for v in a])
        facts = describe(out)   # a subclass of int could answer for its own value: its type says so
        types.append(facts.get("type"))
        number = facts.get("value")
        values.append(number if type(number) in (int, float) and facts.get("exact") else float("nan"))
    return {"values": values, "types": types}


# --------------------------------------------------------------------------- moe
def route(logits, k):
    z = _t(logits)
    result = student.route(z, int(k))
    if tuple not in _MRO(type(result)) or len(result) != 3:
        return {"error": f"route must return (probs, gates, experts), got {type_name(result)}"}
    probs, gates, experts = result
    return {"error": None, "probs": _arr(probs), "gates": _arr(gates), "experts": _arr(experts),
            "probs_info": _info(probs, logits=z), "gates_info": _info(gates), "experts_info": _info(experts),
            "logits_after": describe(z)}   # "unchanged": the judge decides


def aux_loss(logits, experts, alpha, upstream, dtype="float64"):
    """Student's load_balancing_loss(softmax(logits), experts, alpha); logits require grad and the
    loss is backpropagated with the scalar `upstream`; reports value, shape and d/dlogits."""
    z = _t(logits, getattr(torch, dtype)).requires_grad_(True)
    probs = torch.softmax(z, dim=-1)
    idx = torch.tensor(np.asarray(experts), dtype=torch.long)
    loss = student.load_balancing_loss(probs, idx, float(alpha))
    facts = describe(loss)
    report = {**_info(loss), "value": None, "grad": "None", "experts_after": describe(idx)}
    value = facts.get("value")
    if not _genuine_tensor(facts):
        if type(value) in (int, float) and facts.get("exact"):
            report["value"] = float(value)
        return report
    if type(value) is not np.ndarray or value.size != 1:
        return report
    report["value"] = float(value.reshape(-1)[0])
    if facts.get("requires_grad"):
        (loss.reshape(()) * float(upstream)).backward()
        report["grad"] = _grad(z)
    return report


def moe(cfg, weights, x_tbc, upstream=None, aux_upstream=None):
    """Student's MoE (stand-in expert forward, see above) on a non-contiguous (B, T, C) float64 input.

    With upstream / aux_upstream: backward of (y * upstream).sum() + aux_upstream * aux, and the
    gradient of the router weight comes back."""
    with _Swap(methods=[("SwiGLU", "forward", _stand_in_expert_forward)]):
        layer = _load(student.MoE(int(cfg["d_model"]), int(cfg["d_hidden"]), int(cfg["n_experts"]),
                                  int(cfg["top_k"]), float(cfg["alpha"])), weights)
        x = _btc(x_tbc)
        result = layer(x)
        if tuple not in _MRO(type(result)) or len(result) != 2:
            return {"error": f"MoE.forward must return (y, aux_loss), got {type_name(result)}"}
        y, aux = result
        report = {"error": None, "y_info": _info(y, x=x), "aux_info": _info(aux), "y": _arr(y), "aux": _arr(aux),
                  "router_grad": "None"}
        if upstream is not None and _genuine_tensor(describe(y)) and _genuine_tensor(describe(aux)):
            total = (y * _t(upstream)).sum() + float(aux_upstream) * aux.reshape(-1)[0]
            if _differentiable(total):
                total.backward()
                report["router_grad"] = _grad(layer.router.weight)
    return report
