"""Probes for 07_attention. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`, `describe`.

Every probe receives plain NumPy data from the judge, builds the torch tensors the exercise asks
for (dtype and memory layout chosen by the judge: contiguous, a transposed view, every other row
of a larger tensor, a stride-0 expand along a new batch axis, or axes 1 and 2 swapped like the
output of split_heads), calls the student's function and reports plain data: what came back,
described before any conversion (type, dtype, shape, requires_grad, device, whether it shares
memory with an input), then its values, gradients where asked, and whether the inputs were left
untouched. Nothing here knows an expected value, and nothing here solves a part.

Part isolation: `multi_head_attention` is probed with a STAND-IN for `scaled_dot_product_attention`
swapped into the notebook's namespace for the duration of the call. The stand-in is deliberately
not attention (tanh of the scaled scores instead of a softmax, blocked keys set to 0); the judge
computes what multi-head attention built on it must return. So a mistake in the attention part
never costs points in the multihead part, and calling the stand-in scores nothing elsewhere.
"""
import math

import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "bool": torch.bool}
_MISSING = object()


# --------------------------------------------------------------------------- building inputs
def _tensor(spec, requires_grad=False):
    """(leaf, view): torch tensors from {"value": array, "dtype": name, "layout": name[, "batch": int]}.

    The view holds the values of spec["value"] (broadcast along a new first axis for "expanded")
    with the layout's strides; the leaf is the tensor it was cut from (the one that gets .grad).
    """
    value = np.asarray(spec["value"])
    dtype = _DTYPES[spec.get("dtype", "bool" if value.dtype == np.bool_ else "float64")]
    layout = spec.get("layout", "contiguous")
    if layout == "contiguous":
        leaf = torch.tensor(value, dtype=dtype)
    elif layout == "transposed":        # the last two axes are swapped in memory: a transposed view
        leaf = torch.tensor(np.ascontiguousarray(np.swapaxes(value, -1, -2)), dtype=dtype)
    elif layout == "strided":           # every other row of a tensor twice as tall; the gaps hold junk
        shape = value.shape[:-2] + (2 * value.shape[-2], value.shape[-1])
        full = np.zeros(shape, dtype=value.dtype)
        full[..., 1::2, :] = True if value.dtype == np.bool_ else np.nan
        full[..., ::2, :] = value
        leaf = torch.tensor(full, dtype=dtype)
    elif layout == "expanded":          # one tensor shared by every batch entry (stride 0)
        leaf = torch.tensor(value, dtype=dtype)
    elif layout == "heads":             # axes 1 and 2 swapped in memory, like the output of split_heads
        leaf = torch.tensor(np.ascontiguousarray(np.swapaxes(value, 1, 2)), dtype=dtype)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if requires_grad:
        leaf.requires_grad_(True)
    if layout == "transposed":
        view = leaf.transpose(-1, -2)
    elif layout == "strided":
        view = leaf[..., ::2, :]
    elif layout == "expanded":
        view = leaf.unsqueeze(0).expand(int(spec["batch"]), *value.shape)
    elif layout == "heads":
        view = leaf.transpose(1, 2)
    else:
        view = leaf
    if requires_grad and view is not leaf:
        view.retain_grad()              # the grads are reported for the values the student saw
    return leaf, view


def _describe(obj, inputs=()):
    """What the student returned, recorded BEFORE any conversion: type, dtype, shape,
    requires_grad, device, and which inputs (by position) it shares memory with. Then its values
    as float64 (bool stays bool); values None if unreadable. Read through the platform's
    describe(), whose facts come from C-level types captured before the notebook ran: a cell that
    patches torch, or a Tensor subclass that lies about its dtype, changes nothing here; kind is
    "torch" only for a genuine torch.Tensor."""
    facts = describe(obj, inputs={str(i): t for i, t in enumerate(inputs)})
    tensor = facts.get("type") == "torch.Tensor" and bool(facts.get("exact"))
    info = {"kind": "torch" if tensor else facts.get("type"),
            "dtype": None, "shape": None, "value": None, "requires_grad": None, "device": None,
            "aliases": []}
    if tensor:
        info.update(dtype=facts["dtype"], shape=list(facts["shape"]), requires_grad=facts["requires_grad"],
                    device=facts["device"], aliases=[int(a) for a in facts.get("aliases") or []])
        value = facts.get("value")
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            info["value"] = value.copy() if value.dtype.kind == "b" else value.astype(np.float64)
    return info


_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


def _sequence(obj):
    """obj is a tuple or list by its real bases (not isinstance, which a class can answer)."""
    bases = _MRO(type(obj))
    return tuple in bases or list in bases


def _pair(result, name):
    """(out, weights) from a result that should be a 2-tuple; an error text otherwise."""
    if not _sequence(result) or len(result) != 2:
        size = f" of length {len(result)}" if _sequence(result) else ""
        return None, f"{name} must return a tuple (out, weights), got {type_name(result)}{size}"
    return result, None


def _grad_of(t):
    """t.grad's values in float64, read through TensorBase's own grad descriptor (a cell may
    shadow torch.Tensor.grad) and by describe() (not .numpy(), which a cell may patch)."""
    g = torch._C.TensorBase.__dict__["grad"].__get__(t)
    if g is None:
        return None
    value = describe(g).get("value")
    return value.astype(np.float64) if type(value) is np.ndarray else None


def _backward(results, leaves):
    """L = sum(G_out * out) + sum(G_w * weights); returns {name: grad or None} or an error text.
    results: (tensor, its _describe() record, upstream gradient or None); whether a result is a
    tensor that requires grad is read from its record (describe()), not asked of the object."""
    pieces = []
    for t, info, g in results:
        if g is None:
            continue
        if info["kind"] != "torch":
            return "the result is not a torch.Tensor, so no gradient can flow back"
        if info["requires_grad"] is not True:
            return ("the result does not require grad: the computation graph was cut "
                    "(.detach(), .numpy(), torch.no_grad() or a new tensor built from values)")
        pieces.append((t * torch.tensor(np.asarray(g), dtype=t.dtype)).sum())
    sum(pieces).backward()
    return {name: _grad_of(t) for name, t in leaves.items()}


# --------------------------------------------------------------------------- attention part
def attention(q, k, v, mask=None, grads=None):
    """student.scaled_dot_product_attention on tensors built from the specs.

    grads: None, or {"out": G_out, "weights": G_w} (either may be None): the probe backpropagates
    L = sum(G_out * out) + sum(G_w * weights) to q, k, v and reports their grads.
    """
    want_grad = grads is not None
    (_, tq), (_, tk), (_, tv) = (_tensor(s, requires_grad=want_grad) for s in (q, k, v))
    tm = None if mask is None else _tensor(mask)[1]
    inputs = [t for t in (tq, tk, tv, tm) if t is not None]
    fn = student.scaled_dot_product_attention
    result = fn(tq, tk, tv) if tm is None else fn(tq, tk, tv, tm)
    pair, error = _pair(result, "scaled_dot_product_attention")
    report = {"error": error}
    if error:
        return report
    out, weights = pair
    report["out"] = _describe(out, inputs)
    report["weights"] = _describe(weights, inputs)
    # the inputs as they are now, read by the platform's describe(); the judge decides "unchanged"
    report["inputs_after"] = [describe(a) for a in inputs]
    if want_grad:
        g = _backward([(out, report["out"], grads.get("out")), (weights, report["weights"], grads.get("weights"))],
                      {"q": tq, "k": tk, "v": tv})
        report["grads"] = g if type(g) is dict else None
        report["grad_error"] = g if type(g) is str else None
    return report


# --------------------------------------------------------------------------- multihead part
class _StandInAttention:
    """NOT attention: (out, weights) with weights = tanh(q k^T / sqrt(d_k)), blocked keys 0, and
    out = weights @ v. Swapped in for scaled_dot_product_attention while multi_head_attention is
    probed; counts its calls so the judge knows whether the student's code went through it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, q, k, v, mask=None):
        self.calls += 1
        weights = torch.tanh(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))
        if mask is not None:
            weights = weights.masked_fill(~mask, 0.0)
        return weights @ v, weights


def _notebook_globals():
    """The namespace where the student's multi_head_attention looks up scaled_dot_product_attention."""
    fn = student.multi_head_attention
    namespace = getattr(fn, "__globals__", None)
    if namespace is None:
        raise TypeError(f"multi_head_attention must be a function, got {type_name(fn)}")
    return namespace


class _SwapAttention:
    """Swap the stand-in attention in for the duration of one call, then put things back."""

    name = "scaled_dot_product_attention"

    def __init__(self):
        self.stand_in = _StandInAttention()

    def __enter__(self):
        self.namespace = _notebook_globals()
        self.saved = self.namespace.get(self.name, _MISSING)
        self.namespace[self.name] = self.stand_in
        return self

    def __exit__(self, *exc):
        if self.saved is _MISSING:
            self.namespace.pop(self.name, None)
        else:
            self.namespace[self.name] = self.saved
        return False


def split_heads(x, num_heads):
    _, t = _tensor(x)
    out = student.split_heads(t, int(num_heads))
    return {"out": _describe(out, [t]), "inputs_after": [describe(t)]}


def merge_heads(x):
    _, t = _tensor(x)
    out = student.merge_heads(t)
    return {"out": _describe(out, [t]), "inputs_after": [describe(t)]}


def mha(x_q, x_kv, weights, num_heads, mask=None, g_out=None):
    """student.multi_head_attention with the stand-in attention swapped in; reports how often
    the stand-in was called (0: the student computed attention some other way).

    x_kv None means self-attention: the same tensor object is passed as x_q and x_kv.
    weights: [w_q, w_k, w_v, w_o] specs. g_out: None, or an upstream gradient for out; then the
    grads of x_q, x_kv and the four weight matrices are reported.
    """
    want_grad = g_out is not None
    _, tq = _tensor(x_q, requires_grad=want_grad)
    tkv = tq if x_kv is None else _tensor(x_kv, requires_grad=want_grad)[1]
    ws = [_tensor(w, requires_grad=want_grad) for w in weights]
    tm = None if mask is None else _tensor(mask)[1]
    inputs = [tq, tkv] + [w for _, w in ws]
    swap = _SwapAttention()
    with swap:
        args = (tq, tkv, *[w for _, w in ws], int(num_heads))
        result = student.multi_head_attention(*args) if tm is None else student.multi_head_attention(*args, tm)
    pair, error = _pair(result, "multi_head_attention")
    report = {"error": error, "stand_in_calls": swap.stand_in.calls}
    if error:
        return report
    out, attn = pair
    report["out"] = _describe(out, inputs)
    report["weights"] = _describe(attn, inputs)
    report["inputs_after"] = [describe(a) for a in inputs]   # judged in the judge
    if want_grad:
        leaves = {"x_q": tq, "w_q": ws[0][1], "w_k": ws[1][1], "w_v": ws[2][1], "w_o": ws[3][1]}
        if x_kv is not None:
            leaves["x_kv"] = tkv
        g = _backward([(out, report["out"], g_out)], leaves)
        report["grads"] = g if type(g) is dict else None
        report["grad_error"] = g if type(g) is str else None
    return report


# --------------------------------------------------------------------------- positions and masks
def positional_encoding(n_pos, d_model, offset=None):
    fn = student.sinusoidal_positional_encoding
    out = fn(int(n_pos), int(d_model)) if offset is None else fn(int(n_pos), int(d_model), offset=int(offset))
    return _describe(out)


def causal(n_q, n_k=None):
    out = student.causal_mask(int(n_q)) if n_k is None else student.causal_mask(int(n_q), int(n_k))
    return _describe(out)
