"""Probes for 10_lora_quant. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`.

Every probe receives plain NumPy data from the judge, builds the torch objects the exercise asks
for (dtype and memory layout chosen by the judge: contiguous, a transposed view, or every other
row of a taller tensor whose gaps hold junk), calls the student's code and reports plain data:
what kind of object came back, its dtype, shape and values, gradients and flags where asked.
Nothing here knows the expected values; the hidden tests compute them in float64.

0-d values travel flattened with their shape next to them (the wire format turns a 0-d array into
shape (1,)), so every tensor report is {"kind", "dtype", "shape", "value" (flat float64)}.

This file is public (a notebook can read anything that enters the sandbox): it holds no reference
solution and no expected value. Reports record what the student returned (kind, dtype, shape,
requires_grad, device, aliasing with the inputs) before any conversion.

Part isolation: `roundtrip_error` (part error_bound) is probed with STAND-INS for compute_qparams,
quantize and dequantize, made inside the probe for one call and deliberately not the notebook's
quantizer: compute_qparams returns the (scale, zero_point) the judge chose for this test's x
(not x's own qparams), quantize floors (clamp(floor(x / s) + z) as int16) and dequantize puts the
value in the middle of its step ((q - z + 0.5) s). The judge computes what roundtrip_error must
report from them, so a mistake in the quantize part never costs points in the error_bound part.
The lora part uses only LoRALinear.
"""
import numpy as np
import torch
import torch.nn as nn

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int8": torch.int8,
           "uint8": torch.uint8, "int32": torch.int32}
_MISSING = object()
_EPS = 1e-8


# --------------------------------------------------------------------------- building inputs
def _tensor(spec, requires_grad=False):
    """(leaf, view) from {"value": array, "shape": [...], "dtype": name, "layout": name}.

    layout "contiguous"; "transposed": the last two axes swapped in memory (a transposed view);
    "strided": every other slice along axis 0 of a tensor twice as long, the gaps hold junk.
    """
    value = np.asarray(spec["value"]).reshape(spec.get("shape", np.shape(spec["value"])))
    dtype = _DTYPES[spec.get("dtype", "float64")]
    layout = spec.get("layout", "contiguous")
    if layout == "contiguous":
        leaf = torch.tensor(value, dtype=dtype)
    elif layout == "transposed":
        leaf = torch.tensor(np.ascontiguousarray(np.swapaxes(value, -1, -2)), dtype=dtype)
    elif layout == "strided":
        full = np.full((2 * value.shape[0],) + value.shape[1:], 1e6 if dtype.is_floating_point else 7,
                       dtype=value.dtype)
        full[::2] = value
        leaf = torch.tensor(full, dtype=dtype)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if requires_grad:
        leaf.requires_grad_(True)
    if layout == "transposed":
        view = leaf.transpose(-1, -2)
    elif layout == "strided":
        view = leaf[::2]
    else:
        view = leaf
    if requires_grad and view is not leaf:
        view.retain_grad()
    return leaf, view


def _shares_memory(a, b):
    try:
        return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    except Exception:  # noqa: BLE001 - no storage: shares nothing we gave it
        return False


def _describe(obj, **inputs):
    """kind / dtype / shape / requires_grad / device / aliases (which inputs it shares memory with),
    recorded untouched, then the flat float64 values (value None if unreadable)."""
    info = {"kind": "torch" if isinstance(obj, torch.Tensor) else type_name(obj),
            "dtype": None, "shape": None, "value": None, "requires_grad": None, "device": None, "aliases": []}
    if isinstance(obj, torch.Tensor):
        info["dtype"] = str(obj.dtype).replace("torch.", "")
        info["shape"] = [int(s) for s in obj.shape]
        info["requires_grad"] = bool(obj.requires_grad)
        info["device"] = str(obj.device)
        info["aliases"] = [name for name, t in inputs.items() if isinstance(t, torch.Tensor) and _shares_memory(obj, t)]
        value = obj.detach().cpu()
        if value.is_complex():
            return info
        if value.dtype == torch.bool:
            value = value.to(torch.int64)
        info["value"] = value.to(torch.float64).reshape(-1).numpy().copy()
    return info


def _grad(t):
    return None if t.grad is None else _describe(t.grad)


# --------------------------------------------------------------------------- part lora
def _make_layer(cfg):
    """nn.Linear with the judge's W (and b), wrapped by the student's LoRALinear."""
    dtype = _DTYPES[cfg["dtype"]]
    out_f, in_f = int(cfg["out_f"]), int(cfg["in_f"])
    has_bias = cfg.get("b") is not None
    base = nn.Linear(in_f, out_f, bias=has_bias, dtype=dtype)
    with torch.no_grad():
        base.weight.copy_(torch.tensor(np.asarray(cfg["W"]).reshape(out_f, in_f), dtype=dtype))
        if has_bias:
            base.bias.copy_(torch.tensor(np.asarray(cfg["b"]).reshape(out_f), dtype=dtype))
    torch.manual_seed(int(cfg.get("seed", 0)))
    layer = student.LoRALinear(base, int(cfg["r"]), cfg["alpha"])
    return base, layer


def _set_lora(layer, cfg):
    """Put the judge's (non-zero) A and B into the student's lora_A / lora_B."""
    for name, key in (("lora_A", "A"), ("lora_B", "B")):
        p = getattr(layer, name)
        value = torch.tensor(np.asarray(cfg[key]), dtype=p.dtype).reshape(p.shape) \
            if p.numel() == np.size(cfg[key]) else None
        if value is None:
            raise ValueError(f"{name} has shape {tuple(p.shape)}, which does not fit the test's "
                             f"{np.shape(cfg[key])} values")
        with torch.no_grad():
            p.copy_(value)


def _scaling(layer):
    s = getattr(layer, "scaling", _MISSING)
    if s is _MISSING:
        return "missing"
    if isinstance(s, torch.Tensor) and s.numel() == 1:
        s = s.item()
    try:
        return float(s)
    except (TypeError, ValueError):
        return f"<{type_name(s)}>"


def _flag(layer, name):
    v = getattr(layer, name, _MISSING)
    if v is _MISSING:
        return "missing"
    return v if isinstance(v, bool) else f"<{type_name(v)}: {v!r}>"[:80]


def _frozen(base, layer):
    return {"base_requires_grad": {n: bool(p.requires_grad) for n, p in base.named_parameters()},
            "trainable": sorted(n for n, p in layer.named_parameters() if p.requires_grad)}


def lora_init(cfg, x):
    """A fresh LoRALinear: its parameters, flags and output before any training."""
    base, layer = _make_layer(cfg)
    a, b = getattr(layer, "lora_A", None), getattr(layer, "lora_B", None)
    _, tx = _tensor(x)
    report = {
        "base_is_same": getattr(layer, "base", None) is base,
        "A": _describe(a), "B": _describe(b),
        "A_is_parameter": isinstance(a, nn.Parameter), "B_is_parameter": isinstance(b, nn.Parameter),
        "scaling": _scaling(layer),
        "merged": _flag(layer, "merged"),
        "base_requires_grad": {n: bool(p.requires_grad) for n, p in base.named_parameters()},
        "trainable": sorted(n for n, p in layer.named_parameters() if p.requires_grad),
    }
    report["y"] = _describe(layer(tx))
    return report


def lora_forward(cfg, x, g):
    """Forward with the judge's A, B (B != 0), then backward with the upstream gradient g."""
    base, layer = _make_layer(cfg)
    leaf, tx = _tensor(x, requires_grad=True)
    report = {"y_fresh": _describe(layer(tx)), **_frozen(base, layer)}   # as constructed, before A, B are set
    _set_lora(layer, cfg)
    before = tx.detach().clone()
    y = layer(tx)
    report["y"] = _describe(y, x=tx)
    if isinstance(y, torch.Tensor) and y.requires_grad:
        y.backward(torch.tensor(np.asarray(g), dtype=y.dtype).reshape(y.shape))
        report["grad_A"] = _grad(layer.lora_A)
        report["grad_B"] = _grad(layer.lora_B)
        report["grad_x"] = _grad(tx)
        report["base_grads"] = {n: p.grad is not None for n, p in base.named_parameters()}
        report["backward"] = True
    else:
        report["backward"] = False
    report["x_unchanged"] = bool(torch.equal(tx.detach(), before))
    return report


def lora_merge(cfg, x):
    """merge(), merge() again, unmerge(): base.weight, the flag and the output after each step."""
    base, layer = _make_layer(cfg)
    _, tx = _tensor(x)
    report = {"y_fresh": _describe(layer(tx))}        # as constructed, before A, B are set
    _set_lora(layer, cfg)
    report["y_before"] = _describe(layer(tx))
    layer.merge()
    report["merged_after_merge"] = _flag(layer, "merged")
    report["W_merged"] = _describe(base.weight)
    report["W_requires_grad"] = bool(base.weight.requires_grad)
    report["W_is_leaf"] = bool(base.weight.is_leaf)
    report["y_merged"] = _describe(layer(tx))
    layer.merge()
    report["W_merged_twice"] = _describe(base.weight)
    layer.unmerge()
    report["merged_after_unmerge"] = _flag(layer, "merged")
    report["W_unmerged"] = _describe(base.weight)
    report["y_unmerged"] = _describe(layer(tx))
    return report


def lora_unmerge_unmerged(cfg, x):
    """unmerge() on a layer that was never merged: base.weight, the flag and the output after it."""
    base, layer = _make_layer(cfg)
    _set_lora(layer, cfg)
    _, tx = _tensor(x)
    layer.unmerge()
    report = {"merged": _flag(layer, "merged"), "W": _describe(base.weight), "y": _describe(layer(tx))}
    layer.merge()                                     # and merging afterwards still works
    report.update(W_merged=_describe(base.weight), y_merged=_describe(layer(tx)),
                  W_frozen_leaf=bool(base.weight.is_leaf and not base.weight.requires_grad))
    return report


# --------------------------------------------------------------------------- part quantize
def qparams(x, mode, dim=None):
    _, t = _tensor(x)
    before = t.clone()
    result = student.compute_qparams(t, mode, None if dim is None else int(dim))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"error": f"compute_qparams must return (scale, zero_point), got {type_name(result)}"}
    scale, zero_point = result
    return {"error": None, "scale": _describe(scale, x=t), "zero_point": _describe(zero_point, x=t),
            "x_unchanged": bool(torch.equal(t, before))}


def quantize(x, scale, zero_point, mode):
    _, t = _tensor(x)
    _, s = _tensor(scale)
    _, z = _tensor(zero_point)
    before = t.clone()
    q = student.quantize(t, s, z, mode)
    return {"q": _describe(q, x=t), "x_unchanged": bool(torch.equal(t, before))}


def dequantize(q, scale, zero_point):
    _, tq = _tensor(q)
    _, s = _tensor(scale)
    _, z = _tensor(zero_point)
    before = tq.clone()
    out = student.dequantize(tq, s, z)
    return {"x_hat": _describe(out, q=tq, scale=s), "q_unchanged": bool(torch.equal(tq, before))}


def roundtrip(x, mode, dim=None, calib=None):
    """The student's three functions chained: dequantize(quantize(x, *compute_qparams(x))), or with
    the qparams of a calibration tensor `calib` (static quantization: values beyond its range saturate)."""
    _, t = _tensor(x)
    _, c = _tensor(calib) if calib is not None else (None, t)
    scale, zero_point = student.compute_qparams(c, mode, None if dim is None else int(dim))
    q = student.quantize(t, scale, zero_point, mode)
    return {"x_hat": _describe(student.dequantize(q, scale, zero_point))}


# --------------------------------------------------------------------------- part error_bound
def _stand_ins(x, mode, dim, scale, zero_point):
    """compute_qparams / quantize / dequantize for one roundtrip_error call (see the docstring)."""
    calls = []

    def compute_qparams(x_, mode_, dim_=None):
        calls.append("compute_qparams")
        same_x = x_ is x or (isinstance(x_, torch.Tensor) and x_.shape == x.shape and torch.equal(x_, x))
        if not same_x or mode_ != mode or dim_ != dim:
            raise ValueError("roundtrip_error must call compute_qparams(x, mode, dim) with its own arguments")
        return scale.clone(), zero_point.clone()

    def quantize(x_, scale_, zero_point_, mode_):
        calls.append("quantize")
        q_min, q_max = (-128, 127) if mode_ == "symmetric" else (0, 255)
        return (torch.floor(x_ / scale_) + zero_point_).clamp(q_min, q_max).to(torch.int16)

    def dequantize(q_, scale_, zero_point_):
        calls.append("dequantize")
        return (q_.to(scale_.dtype) - zero_point_.to(scale_.dtype) + 0.5) * scale_

    return {"compute_qparams": compute_qparams, "quantize": quantize, "dequantize": dequantize}, calls


class _Swapped:
    """Put `swaps` into the namespace roundtrip_error reads its globals from, for one call."""

    def __init__(self, swaps):
        self.swaps = swaps

    def __enter__(self):
        fn = student.roundtrip_error
        namespace = getattr(fn, "__globals__", None)
        if namespace is None:
            raise TypeError(f"roundtrip_error must be a function, got {type_name(fn)}")
        self.namespace = namespace
        self.saved = {name: namespace.get(name, _MISSING) for name in self.swaps}
        namespace.update(self.swaps)
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is _MISSING:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = value
        return False


def roundtrip_error(x, mode, dim, scale, zero_point):
    """The student's roundtrip_error with the stand-ins; scale / zero_point are the judge's."""
    _, t = _tensor(x)
    _, s = _tensor(scale)
    _, z = _tensor(zero_point)
    before = t.clone()
    dim = None if dim is None else int(dim)
    swaps, calls = _stand_ins(t, mode, dim, s, z)
    with _Swapped(swaps):
        result = student.roundtrip_error(t, mode, dim)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return {"error": f"roundtrip_error must return (max_error, bound), got {type_name(result)}"}
    max_error, bound = result
    return {"error": None, "max_error": _describe(max_error, x=t), "bound": _describe(bound, x=t),
            "calls": calls, "x_unchanged": bool(torch.equal(t, before))}
