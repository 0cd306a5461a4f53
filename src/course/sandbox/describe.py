"""`describe(value, inputs)`: what a student's function returned, recorded before any conversion.

Given to probes as a global (next to `type_name` and `to_numpy`). A probe calls it on the
student's result first thing, so the judge sees the object as the student made it: its type,
dtype, shape, requires_grad, grad_fn, device, whether it is a view, and which inputs it shares
memory with; the values come last, converted only after all that was read. A probe that casts
first (`out.double()`, `to_numpy(out)`, `.detach()`) hides exactly the mistakes a dtype, gradient
or aliasing check is for.

    out = student.attention(q, k, v)
    return describe(out, inputs={"q": q, "k": k, "v": v})

Returns plain data (the sandbox protocol's): for a tensor or array
    {"type": "torch.Tensor", "dtype": "float32", "shape": [5, 3], "requires_grad": True,
     "grad_fn": "MmBackward0", "device": "cpu", "is_view": False, "aliases": ["q"],
     "value": <numpy array in the same dtype; bfloat16/float16 widened to float32>}
for a Python or NumPy scalar {"type": "builtins.float", "dtype": None/"float32", "shape": None/[],
"value": 0.5}, for a tuple or list {"type": "builtins.tuple", "items": [<describe of each>]},
for a dict {"type": "builtins.dict", "items": {key: <describe>}}, anything else its type alone.

Everything recorded is read through course.sandbox.facts: references to the genuine C types and
functions taken before the notebook ran, so a cell that patches numpy/torch (`np.array_equal`,
`np.shares_memory`, `torch.Tensor.dtype`, a Tensor subclass whose `dtype` lies, a TorchFunction
or TorchDispatch mode) changes nothing here. "type" is the object's real type: a subclass of
ndarray/Tensor is described with its own facts and its own name, and `exact` is False, so a
judge's type check fails it; a class that names itself after a genuine type ("torch.Tensor")
gets " (look-alike)" appended. `aliases` come from byte ranges (data pointers and extents).
The helpers below live in a closure: rebinding this module's globals changes nothing.
"""

from __future__ import annotations

import builtins
import sys

from course.sandbox.facts import capture

_MAX_ITEMS = 64   # a tuple/list/dict described item by item up to this many


def _build():
    facts = capture()
    is_tensor, is_ndarray, exact = facts["is_tensor"], facts["is_ndarray"], facts["exact"]
    ndarray_facts, tensor_facts, shares = facts["ndarray_facts"], facts["tensor_facts"], facts["shares"]
    snapshot, scalar_dtype = facts["snapshot"], facts["scalar_dtype"]
    _type, _isinstance, _len, _str, _int, _dict, _enumerate = (
        builtins.type, builtins.isinstance, builtins.len, builtins.str, builtins.int, builtins.dict,
        builtins.enumerate)
    plain = (type(None), bool, int, float, str)
    containers = (tuple, list)
    genuine = {}   # "module.qualname" -> the one type allowed to carry that name

    def _name_of(kind) -> str:
        module = _type.__dict__["__module__"].__get__(kind)
        module = "tensorflow" if _isinstance(module, _str) and module.startswith("tensorflow") else module
        return f"{module}.{_type.__dict__['__qualname__'].__get__(kind)}"

    import numpy as np

    for kind in (np.ndarray, *np.sctypeDict.values(), *plain, tuple, list, dict):
        genuine[_name_of(kind)] = kind
    modules = sys.modules

    def _add_torch():   # at import when preloaded (the zygote), else once torch appears (see facts)
        if "torch.Tensor" not in genuine and "torch" in modules:
            torch = modules["torch"]
            genuine[_name_of(torch.Tensor)] = torch.Tensor
            genuine[_name_of(torch.nn.Parameter)] = torch.nn.Parameter

    _add_torch()

    def real_type_name(value) -> str:
        _add_torch()
        kind = _type(value)
        name = _name_of(kind)
        claimed = genuine.get(name)
        return name if claimed is None or claimed is kind else name + " (look-alike)"

    def aliases(value, inputs) -> list:
        """Names of the inputs whose memory the value shares (a view of one, or the very object)."""
        if not inputs:
            return []
        named = inputs.items() if _type(inputs) is _dict else ((_str(i), x) for i, x in _enumerate(inputs))
        return [name for name, other in named if shares(value, other)]

    def array_like(value, inputs, facts_of) -> dict:
        info = {"type": real_type_name(value), "exact": exact(value), "requires_grad": None, "grad_fn": None,
                "device": "cpu"}
        info.update(facts_of(value))
        info["aliases"] = aliases(value, inputs)
        info["value"] = snapshot(value)   # values last, from a copy: nothing above changed by converting
        return info

    def describe(value, inputs=None, _depth: int = 0) -> dict:
        """See the module docstring. inputs: {name: object} (or a list) the value may alias."""
        kind = _type(value)
        if is_tensor(value):
            return array_like(value, inputs, tensor_facts)
        if is_ndarray(value):
            info = array_like(value, inputs, ndarray_facts)
            if info["value"] is not None and info["value"].dtype == object:
                info["value"] = None
            return info
        if exact(value):   # a genuine NumPy scalar
            got = snapshot(value)
            number = got.item() if got.dtype.kind in "biuf" else None
            return {"type": real_type_name(value), "exact": True, "dtype": scalar_dtype(value), "shape": [],
                    "value": number}
        if kind in plain:
            return {"type": real_type_name(value), "exact": True, "dtype": None, "shape": None, "value": value}
        name = real_type_name(value)
        if name.startswith("tensorflow") and hasattr(value, "numpy") and hasattr(value, "dtype"):
            # Not hardened: TensorFlow objects are described through their own methods.
            return {"type": name, "exact": True, "dtype": getattr(value.dtype, "name", _str(value.dtype)),
                    "shape": [_int(s) for s in value.shape], "requires_grad": None, "grad_fn": None,
                    "device": _str(getattr(value, "device", "")), "is_view": False, "aliases": [],
                    "value": value.numpy()}
        if _depth < 3 and kind in containers and _len(value) <= _MAX_ITEMS:
            return {"type": name, "items": [describe(v, inputs, _depth + 1) for v in value]}
        if _depth < 3 and kind is _dict and _len(value) <= _MAX_ITEMS and all(_type(k) is _str for k in value):
            return {"type": name, "items": {k: describe(v, inputs, _depth + 1) for k, v in value.items()}}
        return {"type": name, "exact": False}

    return describe, real_type_name, snapshot


describe, real_type_name, snapshot = _build()
