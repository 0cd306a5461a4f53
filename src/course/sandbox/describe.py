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
"""
from __future__ import annotations

import sys

_MAX_ITEMS = 64   # a tuple/list/dict described item by item up to this many


def type_name(value) -> str:
    from course.sandbox.child import type_name as name  # the probes' own (child imports this module)

    return name(value)


def _torch():
    return sys.modules.get("torch")


def _is_tensor(value) -> bool:
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _storage(value):
    """An id of the memory behind a tensor or array (None: none to compare)."""
    if _is_tensor(value):
        try:
            pointer = value.untyped_storage().data_ptr()
        except (RuntimeError, NotImplementedError):  # sparse, meta
            return None
        return ("torch", pointer) if pointer else None
    import numpy as np

    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        return ("numpy", id(base)) if value.size else None
    return None


def _aliases(value, inputs) -> list[str]:
    """Names of the inputs whose memory the value shares (a view of one, or the very object)."""
    if not inputs:
        return []
    import numpy as np

    named = inputs.items() if isinstance(inputs, dict) else ((str(i), x) for i, x in enumerate(inputs))
    mine = _storage(value)
    found = []
    for name, other in named:
        if other is value:
            found.append(name)
            continue
        theirs = _storage(other)
        if mine is not None and theirs == mine:
            found.append(name)
        elif isinstance(value, np.ndarray) and isinstance(other, np.ndarray) and np.shares_memory(value, other):
            found.append(name)
    return found


def _tensor(value, inputs) -> dict:
    torch = _torch()
    info = {"type": type_name(value), "dtype": str(value.dtype).replace("torch.", ""),
            "shape": [int(s) for s in value.shape], "requires_grad": bool(value.requires_grad),
            "grad_fn": type(value.grad_fn).__name__ if value.grad_fn is not None else None,
            "device": str(value.device), "is_view": value._base is not None,
            "aliases": _aliases(value, inputs)}
    # Values last, from a detached copy: nothing above has been changed by converting.
    data = value.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    if data.dtype in (torch.bfloat16, torch.float16):
        data = data.float()
    info["value"] = data.resolve_conj().resolve_neg().numpy().copy() if not data.is_complex() else None
    return info


def _array(value, inputs) -> dict:
    return {"type": type_name(value), "dtype": str(value.dtype), "shape": [int(s) for s in value.shape],
            "requires_grad": None, "grad_fn": None, "device": "cpu", "is_view": value.base is not None,
            "aliases": _aliases(value, inputs), "value": value.copy() if value.dtype != object else None}


def describe(value, inputs=None, _depth: int = 0) -> dict:
    """See the module docstring. inputs: {name: object} (or a list) the value may alias."""
    import numpy as np

    if _is_tensor(value):
        return _tensor(value, inputs)
    if isinstance(value, np.ndarray):
        return _array(value, inputs)
    if isinstance(value, np.generic):
        plain = value.item() if value.dtype.kind in "biuf" else None
        return {"type": type_name(value), "dtype": str(value.dtype), "shape": [], "value": plain}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"type": type_name(value), "dtype": None, "shape": None, "value": value}
    if type_name(value).startswith("tensorflow") and hasattr(value, "numpy") and hasattr(value, "dtype"):
        return {"type": type_name(value), "dtype": getattr(value.dtype, "name", str(value.dtype)),
                "shape": [int(s) for s in value.shape], "requires_grad": None, "grad_fn": None,
                "device": str(getattr(value, "device", "")), "is_view": False, "aliases": [],
                "value": value.numpy()}
    if _depth < 3 and isinstance(value, (tuple, list)) and len(value) <= _MAX_ITEMS:
        return {"type": type_name(value), "items": [describe(v, inputs, _depth + 1) for v in value]}
    if _depth < 3 and isinstance(value, dict) and len(value) <= _MAX_ITEMS and all(isinstance(k, str) for k in value):
        return {"type": type_name(value), "items": {k: describe(v, inputs, _depth + 1) for k, v in value.items()}}
    return {"type": type_name(value)}
