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


def _describe(obj, **inputs):
    """kind / type / dtype / shape / requires_grad / grad_fn / device / aliases (which inputs it
    shares memory with), read by the platform's describe() before any conversion (C-level facts: a
    cell that patches torch, or a Tensor subclass that lies about its dtype, changes nothing
    here), then the flat float64 values (value None if unreadable). kind is "torch" only for a
    genuine torch.Tensor / nn.Parameter; the judge decides every property from this."""
    facts = describe(obj, inputs=inputs)
    tensor = bool(facts.get("exact")) and facts.get("type") in ("torch.Tensor", "torch.nn.parameter.Parameter")
    info = {"kind": "torch" if tensor else facts.get("type"), "type": facts.get("type"), "dtype": None,
            "shape": None, "value": None, "requires_grad": None, "grad_fn": None, "device": None, "aliases": []}
    if tensor:
        info.update(dtype=facts["dtype"], shape=list(facts["shape"]), requires_grad=facts["requires_grad"],
                    grad_fn=facts["grad_fn"], device=facts["device"], aliases=list(facts.get("aliases") or []))
        value = facts.get("value")
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            info["value"] = value.astype(np.float64).reshape(-1)
    return info


def _bytes_of(t):
    """(type, exact, dtype, shape, bytes) of a tensor as describe() reads it (not torch.equal, which
    a cell may patch); compared as plain data."""
    facts = describe(t)
    value = facts.get("value")
    return (facts.get("type"), facts.get("exact"), facts.get("dtype"), facts.get("shape"),
            value.tobytes() if type(value) is np.ndarray else None)


def _parameters(module, prefix=""):
    """(name, parameter) of a module and its submodules, read from the modules' own dicts (not
    named_parameters(), which a notebook can override or patch)."""
    own = vars(module)
    params, children = own.get("_parameters"), own.get("_modules")
    found = []
    if type(params) is dict:
        found += [(prefix + name, p) for name, p in params.items() if p is not None]
    if type(children) is dict:
        for name, child in children.items():
            if child is not None:
                found += _parameters(child, prefix + name + ".")
    return found


def _requires_grad(p):
    return describe(p).get("requires_grad") is True


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


def _grad(t):
    g = _grad_of(t)
    return None if g is None else _describe(g)


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
    """self.scaling as a float when describe() reads a plain number (or a genuine one-element
    tensor / NumPy scalar) there; else "<its type>"."""
    s = getattr(layer, "scaling", _MISSING)
    if s is _MISSING:
        return "missing"
    facts = describe(s)
    value = facts.get("value")
    if facts.get("type") in ("builtins.float", "builtins.int"):
        return float(value)
    if facts.get("exact") and type(value) is np.ndarray and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(-1)[0])
    if facts.get("exact") and facts.get("shape") == [] and type(value) in (int, float):   # a NumPy scalar
        return float(value)
    return f"<{facts.get('type')}>"


def _flag(layer, name):
    v = getattr(layer, name, _MISSING)
    if v is _MISSING:
        return "missing"
    return v if type(v) is bool else f"<{type_name(v)}: {v!r}>"[:80]


def _frozen(base, layer):
    """requires_grad of each parameter as describe() reads it, the parameters found in the
    modules' own dicts: the judge decides what is frozen."""
    return {"base_requires_grad": {n: _requires_grad(p) for n, p in _parameters(base)},
            "trainable": sorted(n for n, p in _parameters(layer) if _requires_grad(p))}


def lora_init(cfg, x):
    """A fresh LoRALinear: its parameters, flags and output before any training."""
    base, layer = _make_layer(cfg)
    a, b = getattr(layer, "lora_A", None), getattr(layer, "lora_B", None)
    _, tx = _tensor(x)
    report = {
        "base_is_same": getattr(layer, "base", None) is base,
        "A": _describe(a), "B": _describe(b),
        "scaling": _scaling(layer),
        "merged": _flag(layer, "merged"),
        **_frozen(base, layer),
    }
    report["y"] = _describe(layer(tx))
    return report


def lora_forward(cfg, x, g):
    """Forward with the judge's A, B (B != 0), then backward with the upstream gradient g."""
    base, layer = _make_layer(cfg)
    leaf, tx = _tensor(x, requires_grad=True)
    report = {"y_fresh": _describe(layer(tx)), **_frozen(base, layer)}   # as constructed, before A, B are set
    _set_lora(layer, cfg)
    y = layer(tx)
    report["y"] = _describe(y, x=tx)
    if report["y"]["kind"] == "torch" and report["y"]["requires_grad"]:
        y.backward(torch.tensor(np.asarray(g), dtype=y.dtype).reshape(y.shape))
        report["grad_A"] = _grad(layer.lora_A)
        report["grad_B"] = _grad(layer.lora_B)
        report["grad_x"] = _grad(tx)
        report["base_grads"] = {n: _grad_of(p) is not None for n, p in _parameters(base)}
        report["backward"] = True
    else:
        report["backward"] = False
    report["x_after"] = describe(tx)   # the judge decides whether x was left unchanged
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
    report["W_merged"] = _describe(base.weight)   # the judge reads requires_grad / grad_fn (a leaf) from it
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
    report.update(W_merged=_describe(base.weight), y_merged=_describe(layer(tx)))
    return report


# --------------------------------------------------------------------------- part quantize
def qparams(x, mode, dim=None):
    _, t = _tensor(x)
    result = student.compute_qparams(t, mode, None if dim is None else int(dim))
    if type(result) not in (tuple, list) or len(result) != 2:
        return {"error": f"compute_qparams must return (scale, zero_point), got {type_name(result)}"}
    scale, zero_point = result
    return {"error": None, "scale": _describe(scale, x=t), "zero_point": _describe(zero_point, x=t),
            "x_after": describe(t)}


def quantize(x, scale, zero_point, mode):
    _, t = _tensor(x)
    _, s = _tensor(scale)
    _, z = _tensor(zero_point)
    q = student.quantize(t, s, z, mode)
    return {"q": _describe(q, x=t), "x_after": describe(t)}


def dequantize(q, scale, zero_point):
    _, tq = _tensor(q)
    _, s = _tensor(scale)
    _, z = _tensor(zero_point)
    out = student.dequantize(tq, s, z)
    return {"x_hat": _describe(out, q=tq, scale=s), "q_after": describe(tq)}


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
    facts_of_x = _bytes_of(x)

    def compute_qparams(x_, mode_, dim_=None):
        calls.append("compute_qparams")
        same_x = x_ is x or _bytes_of(x_) == facts_of_x
        if not same_x or mode_ != mode or dim_ != dim:
            raise ValueError("roundtrip_error must call compute_qparams(x, mode, dim) with its own arguments")
        return torch.empty_like(scale).copy_(scale), torch.empty_like(zero_point).copy_(zero_point)   # fresh copies

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
    dim = None if dim is None else int(dim)
    swaps, calls = _stand_ins(t, mode, dim, s, z)
    with _Swapped(swaps):
        result = student.roundtrip_error(t, mode, dim)
    if type(result) not in (tuple, list) or len(result) != 2:
        return {"error": f"roundtrip_error must return (max_error, bound), got {type_name(result)}"}
    max_error, bound = result
    return {"error": None, "max_error": _describe(max_error, x=t), "bound": _describe(bound, x=t),
            "calls": calls, "x_after": describe(t)}
