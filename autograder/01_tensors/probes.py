"""Probes for 01_tensors. This module runs INSIDE the sandbox, next to the student's code.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`,
`describe` (the platform's, hardened against patched libraries: course.sandbox.describe).

Every probe receives plain NumPy data from the judge, turns it into the tensors the exercise asks
for (torch or tensorflow, with a fixed dtype), calls the student's function and reports plain
data: which kind of object came back, its dtype, shape and values, and the inputs' values after
the call (the judge compares them with what it sent). The judge decides; nothing here compares against expected values.
"""
import sys

import numpy as np

FRAMEWORKS = ("torch", "tf")
_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


# -- helpers ---------------------------------------------------------------------------------------

def _torch():
    import torch

    return torch


def _tf():
    import tensorflow as tf

    return tf


def _kind(obj, described=None):
    """'torch', 'tf', 'numpy', 'none' or the type's name: what kind of object the student returned.
    torch and NumPy from the platform's describe() (exact types, read before the notebook could
    patch anything); a subclass of either is reported by its own name."""
    if obj is None:
        return "none"
    if described is not None and "exact" in described:
        if described["type"] in ("torch.Tensor", "torch.nn.parameter.Parameter"):
            return "torch"
        if described["type"] == "numpy.ndarray" or (described["exact"] and described["type"].startswith("numpy.")):
            return "numpy"
        if not described["type"].startswith("tensorflow"):
            return described["type"]
    tf = sys.modules.get("tensorflow")
    if tf is not None and type_name(obj).startswith("tensorflow") and tf.is_tensor(obj):
        return "tf"
    return type_name(obj)


def _dtype_name(obj):
    dtype = getattr(obj, "dtype", None)
    if dtype is None:
        return type_name(obj)
    name = getattr(dtype, "name", None)  # numpy and tensorflow dtypes
    if type(name) is str:
        return name
    return str(dtype).replace("torch.", "")  # torch.float32 -> float32


def _describe(obj):
    """Plain description of a returned value: kind, type, dtype, shape and values (as numpy).
    torch and NumPy results through the platform's describe(): a cell that patches torch/numpy or
    returns a subclass cannot make it report another dtype or type. TensorFlow results are read
    through TensorFlow's own methods (not hardened)."""
    try:
        described = describe(obj)
    except Exception:  # noqa: BLE001 - e.g. a symbolic TensorFlow tensor: read below, or reported
        described = {"type": type_name(obj)}
    if "exact" in described and not described["type"].startswith("tensorflow") and "value" in described:
        info = {"kind": _kind(obj, described), "type": described["type"], "dtype": described["dtype"] or described["type"],
                "shape": None, "value": None, "requires_grad": bool(described.get("requires_grad")),
                "device": described.get("device") or "", "is_leaf": described.get("grad_fn") is None}
        value = described["value"]
        if type(value) is not np.ndarray:
            value = None if value is None else np.asarray(value)
        if value is None or value.dtype.kind not in "biuf":
            info["error"] = f"the returned {described['type']} holds {described['dtype']} values, not numbers"
            return info
        info["shape"] = [int(s) for s in value.shape]
        info["value"] = value
        return info
    info = {"kind": _kind(obj, described), "type": type_name(obj), "dtype": _dtype_name(obj), "shape": None,
            "value": None, "requires_grad": bool(getattr(obj, "requires_grad", False)),
            "device": str(getattr(obj, "device", "")), "is_leaf": bool(getattr(obj, "is_leaf", True))}
    if obj is None or info["kind"] != "tf":
        if obj is not None:
            info["error"] = f"could not read the returned {type_name(obj)} as numbers"
        return info
    try:
        value = np.array(to_numpy(obj), copy=True)  # a snapshot: later changes to shared memory must not leak in
    except Exception as exc:  # noqa: BLE001 - a value we cannot read is reported, not raised
        info["error"] = f"could not read the returned {type_name(obj)} as numbers ({type(exc).__name__})"
        return info
    if value.dtype.kind not in "biuf":
        info["error"] = f"the returned {type_name(obj)} holds {value.dtype} values, not numbers"
        return info
    info["shape"] = [int(s) for s in value.shape]
    info["value"] = value
    return info


def _to_torch(array, dtype):
    torch = _torch()
    return torch.tensor(np.array(array), dtype=getattr(torch, dtype))


def _to_tf(array, dtype):
    tf = _tf()
    return tf.constant(np.array(array), dtype=getattr(tf, dtype))


def _to(fw, array, dtype):
    if fw not in FRAMEWORKS:
        raise ValueError(f"unknown framework {fw!r}")
    return _to_torch(array, dtype) if fw == "torch" else _to_tf(array, dtype)


def _after(t):
    """The input's values after the call, for the judge to compare with what it sent (torch via the
    platform's describe(); never compared here, where numpy/torch may have been patched)."""
    got = describe(t)
    if "exact" in got and not got["type"].startswith("tensorflow"):
        return got.get("value")
    return np.array(to_numpy(t), copy=True)


def _student(name, fw):
    return getattr(student, f"{name}_{fw}")


def _call(fw, name, inputs):
    """Convert `inputs` [(array, dtype), ...], call <name>_<fw>(*tensors) and describe the result."""
    tensors = [_to(fw, array, dtype) for array, dtype in inputs]
    out = _student(name, fw)(*tensors)
    info = _describe(out)
    info["inputs_after"] = [_after(t) for t in tensors]
    return info


# -- quiz 1: rank / shape / dtype -------------------------------------------------------------------

def _int_like(value):
    """A genuine int or NumPy integer scalar (not bool), as describe() reads it: a subclass of int
    is described as itself and cannot answer for what it is."""
    try:
        facts = describe(value)
    except Exception:  # noqa: BLE001 - e.g. a symbolic TensorFlow tensor: not an int
        return False
    kind = facts.get("type") or ""
    if kind == "builtins.int":
        return True
    return (kind.startswith("numpy.") and kind != "numpy.ndarray" and bool(facts.get("exact"))
            and facts.get("shape") == [] and (facts.get("dtype") or "").startswith(("int", "uint")))


def _sequence(obj):
    """obj is a tuple or list by its real bases (not isinstance, which a class can answer)."""
    bases = _MRO(type(obj))
    return tuple in bases or list in bases


def _grad_set(t):
    """t.grad is not None, read through TensorBase's own grad descriptor (a cell may shadow
    torch.Tensor.grad)."""
    return _torch()._C.TensorBase.__dict__["grad"].__get__(t) is not None


def make_tensor(fw, data):
    """make_tensor_<fw>(data) -> (t, rank, shape). `data` is a nested list or a numpy array."""
    if type(data) is np.ndarray:   # the judge's own data (from the protocol), not the student's
        data = np.array(data)  # writable copy the student receives
    original = np.array(data, copy=True)
    result = _student("make_tensor", fw)(data)
    if not _sequence(result) or len(result) != 3:
        return {"error": f"make_tensor_{fw} must return a tuple (t, rank, shape), got {type_name(result)}"
                         + (f" of length {len(result)}" if _sequence(result) else "")}
    t, rank, shape = result
    info = {"tensor": _describe(t), "rank_type": type_name(rank), "rank_is_int": _int_like(rank)}
    try:
        info["rank"] = int(np.asarray(to_numpy(rank)).reshape(()))
    except Exception:  # noqa: BLE001
        info["rank"] = None
    info["shape_type"] = type_name(shape)
    info["shape_is_tuple"] = tuple in _MRO(type(shape))   # torch.Size is a tuple
    try:
        items = list(shape)
        info["shape_items_are_int"] = all(_int_like(s) for s in items)
        info["shape"] = [int(s) if s is not None else -1 for s in items]
    except Exception:  # noqa: BLE001 - e.g. a 1-D tf tensor from tf.shape is iterable, a scalar is not
        info["shape_items_are_int"] = False
        info["shape"] = None
    # The input must be left as it was (the judge compares what comes back with what it sent), and
    # the tensor must own its memory: torch.from_numpy / as_tensor share the caller's array.
    info["input_after"] = _after(data) if type(data) is np.ndarray else data
    info["independent"] = None
    if type(data) is np.ndarray and info["tensor"]["value"] is not None:
        info["independent"] = not describe(t, inputs={"data": data}).get("aliases")
    return info


# -- quiz 2: indexing ---------------------------------------------------------------------------------

def pick_last_step(fw, x, idx):
    """pick_last_step_<fw>(x, idx): x float32 (N, T, D), idx int64 (torch) / int32 (tf) (K,)."""
    return _call(fw, "pick_last_step", [(x, "float32"), (idx, "int64" if fw == "torch" else "int32")])


# -- quiz 3: broadcasting -------------------------------------------------------------------------------

def softmax_rows(fw, x):
    return _call(fw, "softmax_rows", [(x, "float32")])


# -- quiz 4: reshape / permute ------------------------------------------------------------------------

def image_to_tokens(fw, x):
    return _call(fw, "image_to_tokens", [(x, "float32")])


# -- quiz 5: matmul -------------------------------------------------------------------------------------

def linear(fw, x, W, b):
    return _call(fw, "linear", [(x, "float32"), (W, "float32"), (b, "float32")])


# -- gradients --------------------------------------------------------------------------------------------

def _expression(fw, name, A=None, c=None):
    """The scalar functions f(x) the judge differentiates through the student's code."""
    if fw == "torch":
        torch = _torch()
        if name == "sin_sq":
            return lambda x: (x ** 2 * torch.sin(x)).sum()
        if name == "lse_l2":
            return lambda x: torch.logsumexp(x, dim=0) + 0.5 * (x * x).sum()
        if name == "lstsq":
            A_t, c_t = torch.tensor(np.array(A)), torch.tensor(np.array(c))
            return lambda x: ((A_t @ x - c_t) ** 2).mean()
    else:
        tf = _tf()
        if name == "sin_sq":
            return lambda x: tf.reduce_sum(x ** 2 * tf.sin(x))
        if name == "lse_l2":
            return lambda x: tf.reduce_logsumexp(x) + 0.5 * tf.reduce_sum(x * x)
        if name == "lstsq":
            A_t, c_t = tf.constant(np.array(A)), tf.constant(np.array(c))
            return lambda x: tf.reduce_mean((tf.linalg.matvec(A_t, x) - c_t) ** 2)
    raise ValueError(f"unknown expression {name!r}")


def value_and_grad(fw, expr, x, A=None, c=None, calls=1):
    """value_and_grad_<fw>(f, x) on a float64 x; with calls=2 the same x is passed twice and the
    second result is reported (a gradient accumulated into the caller's tensor shows up there)."""
    f = _expression(fw, expr, A, c)
    x_t = _to(fw, x, "float64")
    function = _student("value_and_grad", fw)
    for _ in range(calls):
        result = function(f, x_t)
    if not _sequence(result) or len(result) != 2:
        return {"error": f"value_and_grad_{fw} must return a tuple (value, grad), got {type_name(result)}"
                         + (f" of length {len(result)}" if _sequence(result) else "")}
    value, grad = result
    info = {"value": _describe(value), "grad": _describe(grad), "input_after": _after(x_t)}
    if fw == "torch":
        info["input_requires_grad"] = bool(describe(x_t)["requires_grad"])
        info["input_grad_set"] = _grad_set(x_t)
    return info


# -- linear regression ---------------------------------------------------------------------------------------

def fit_linear_regression(X, y, lr, steps):
    """fit_linear_regression(X, y, lr, steps) with float64 torch tensors X (N, D), y (N,)."""
    X_t, y_t = _to_torch(X, "float64"), _to_torch(y, "float64")
    result = student.fit_linear_regression(X_t, y_t, float(lr), int(steps))
    if not _sequence(result) or len(result) != 2:
        return {"error": f"fit_linear_regression must return a tuple (w, b), got {type_name(result)}"
                         + (f" of length {len(result)}" if _sequence(result) else "")}
    w, b = result
    return {"w": _describe(w), "b": _describe(b),
            "inputs_after": [_after(X_t), _after(y_t)]}
