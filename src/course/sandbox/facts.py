"""C-level facts about arrays and tensors, read with references taken before any student code runs.

A probe runs in the student's process, so every library function it calls at probe time may have
been replaced by a notebook cell (`np.array_equal = lambda *a: True`, `torch.equal = ...`, a
`torch.Tensor` subclass whose `dtype` property lies, `torch.Tensor.dtype = property(...)`, a
TorchFunctionMode or TorchDispatchMode left active). What the platform reports about a result
therefore comes only from:

  * types whose attributes cannot be set from Python (`np.ndarray`, `np.dtype`, `np.generic`,
    `torch._C.TensorBase`, `torch._C.StorageBase`, `torch.device`, `torch.dtype`: setattr
    raises TypeError; tests/test_describe.py checks it), read through their own descriptors
    (`TensorBase.__dict__["dtype"].__get__(t)`), never through the object's class, so a subclass
    or a patched `torch.Tensor` cannot answer for them;
  * builtins and C functions captured here, at import: the zygote (or the child) imports this
    module before the notebook runs, after its preloaded libraries (numpy, torch);
  * torch reads done with torch-function dispatch and Python dispatch (modes, subclasses) off.

`capture()` returns the functions as closures: the references live in closure cells, not module
globals, so rebinding `course.sandbox.facts.X` or `numpy.X` changes nothing. What stays possible
for a student who targets the platform itself rather than the libraries: rewriting a closure cell
(`f.__closure__[i].cell_contents = ...`) or a function's `__code__`, writing memory with ctypes,
or replacing the protocol functions of the child. Those are deliberate attacks on the grader's
own code, visible in the submission; values the judge recomputes are not affected by any of it.

torch is captured only when it was imported before this module (preloaded by the zygote, as in
every torch assignment's judge.toml); when it is imported later (by a notebook), it is captured at
first use and a notebook could have tampered with `torch._C` by then: documented, not closed.
"""
from __future__ import annotations

import builtins
import sys


def capture():
    """The fact readers, bound now to the genuine types and functions. Returns a dict of closures:
    kind(x), exact(x), ndarray_facts(x), tensor_facts(x), span(x), snapshot(x)."""
    _type, _len, _int, _str, _bool, _tuple, _list, _range = (
        builtins.type, builtins.len, builtins.int, builtins.str, builtins.bool, builtins.tuple,
        builtins.list, builtins.range)
    _min, _max, _zip, _Exception = builtins.min, builtins.max, builtins.zip, builtins.Exception
    import numpy as np

    ndarray, generic, dtype_type = np.ndarray, np.generic, np.dtype
    nd = ndarray.__dict__
    nd_interface = nd["__array_interface__"].__get__
    nd_dtype, nd_shape, nd_strides = nd["dtype"].__get__, nd["shape"].__get__, nd["strides"].__get__
    nd_base, nd_itemsize, nd_size = nd["base"].__get__, nd["itemsize"].__get__, nd["size"].__get__
    nd_copy = ndarray.copy
    dtype_str, dtype_kind = dtype_type.__str__, dtype_type.__dict__["kind"].__get__
    gen_dtype = generic.__dict__["dtype"].__get__
    np_array = np.array
    type_mro = builtins.type.__dict__["__mro__"].__get__   # tp_mro itself: a metaclass cannot answer
    scalar_types = _tuple(np.sctypeDict.values())          # the genuine NumPy scalar types

    def _derives(kind, base) -> bool:
        for klass in type_mro(kind):
            if klass is base:
                return True
        return False

    def _numpy_scalar(kind) -> bool:
        for s in scalar_types:
            if kind is s:
                return True
        return False
    torch_refs = {}

    def _torch():
        """The genuine torch pieces, taken once: at import if torch was preloaded, else at first use."""
        if not torch_refs and "torch" in sys.modules:
            torch = sys.modules["torch"]
            C = torch._C
            TB, SB = C.TensorBase, C.StorageBase
            tb = TB.__dict__
            torch_refs.update(
                Tensor=torch.Tensor, Parameter=torch.nn.Parameter, TensorBase=TB,
                dtype=tb["dtype"].__get__, shape=tb["shape"].__get__, requires_grad=tb["requires_grad"].__get__,
                grad_fn=tb["grad_fn"].__get__, device=tb["device"].__get__, base=tb["_base"].__get__,
                is_sparse=tb["is_sparse"].__get__, layout=tb["layout"].__get__,
                storage=TB.untyped_storage, storage_ptr=SB.data_ptr, storage_nbytes=SB.nbytes,
                detach=TB.detach, cpu=TB.cpu, to=TB.to, numpy=TB.numpy, is_complex=TB.is_complex,
                resolve_conj=TB.resolve_conj, resolve_neg=TB.resolve_neg, contiguous=TB.contiguous,
                float32=torch.float32, low=(torch.bfloat16, torch.float16), strided=torch.strided,
                no_function=C.DisableTorchFunction, no_dispatch=C._DisableTorchDispatch)
        return torch_refs

    if "torch" in sys.modules:
        _torch()

    def is_tensor(x) -> bool:
        """Any torch.Tensor, subclasses included (the type of the C base is checked, not the class)."""
        t = _torch()
        return bool(t) and _derives(_type(x), t["TensorBase"])

    def is_ndarray(x) -> bool:
        return _derives(_type(x), ndarray)

    def exact(x) -> bool:
        """x is exactly a torch.Tensor (or torch's own nn.Parameter) / np.ndarray / NumPy scalar of a
        builtin type: no student-made subclass."""
        t = _torch()
        kind = _type(x)
        return kind is ndarray or (bool(t) and (kind is t["Tensor"] or kind is t["Parameter"])) or _numpy_scalar(kind)

    def ndarray_facts(x) -> dict:
        """dtype, shape, is_view of any ndarray (subclasses too: read from the C type's descriptors)."""
        return {"dtype": dtype_str(nd_dtype(x)), "shape": [_int(s) for s in nd_shape(x)],
                "is_view": nd_base(x) is not None}

    def tensor_facts(x) -> dict:
        t = _torch()
        with t["no_function"](), t["no_dispatch"]():
            node = t["grad_fn"](x)
            return {"dtype": _str(t["dtype"](x)).replace("torch.", ""),
                    "shape": [_int(s) for s in t["shape"](x)], "requires_grad": _bool(t["requires_grad"](x)),
                    "grad_fn": _type(node).__name__ if node is not None else None,
                    "device": _str(t["device"](x)), "is_view": t["base"](x) is not None}

    def span(x):
        """(low, high) byte addresses of the memory behind x (a tensor's whole storage), or None."""
        if is_ndarray(x):
            if not nd_size(x):
                return None
            interface = nd_interface(ndarray.view(x, ndarray)) if _type(x) is not ndarray else nd_interface(x)
            low = high = interface["data"][0]
            for n, stride in _zip(nd_shape(x), nd_strides(x)):
                if stride < 0:
                    low += (n - 1) * stride
                else:
                    high += (n - 1) * stride
            return (low, high + nd_itemsize(x))
        if is_tensor(x):
            t = _torch()
            with t["no_function"](), t["no_dispatch"]():
                try:
                    if t["layout"](x) is not t["strided"]:
                        return None
                    storage = t["storage"](x)
                    low, size = t["storage_ptr"](storage), t["storage_nbytes"](storage)
                except (RuntimeError, NotImplementedError):  # meta, or no storage
                    return None
            return (low, low + size) if low and size else None
        return None

    def shares(a, b) -> bool:
        """a and b may share memory: their byte ranges overlap (any view of the same buffer)."""
        if a is b:
            return True
        x, y = span(a), span(b)
        return x is not None and y is not None and x[0] < y[1] and y[0] < x[1]

    def snapshot(x):
        """A copy of x's values as an exact ndarray (bfloat16/float16 widened to float32), or None
        when they are not plain numbers. Read without the object's methods."""
        if is_ndarray(x):
            if dtype_kind(nd_dtype(x)) not in "biufc":
                return None
            return nd_copy(ndarray.view(x, ndarray)) if _type(x) is not ndarray else nd_copy(x)
        if is_tensor(x):
            t = _torch()
            with t["no_function"](), t["no_dispatch"]():
                if t["layout"](x) is not t["strided"] or t["is_complex"](x):
                    return None
                data = t["detach"](x)
                if _str(t["device"](data)) != "cpu":
                    data = t["cpu"](data)
                if t["dtype"](data) in t["low"]:
                    data = t["to"](data, t["float32"])
                data = t["resolve_neg"](t["resolve_conj"](data))
                return nd_copy(t["numpy"](data))
        if _numpy_scalar(_type(x)):
            return np_array(x)
        return None

    def scalar_dtype(x) -> str:
        return dtype_str(gen_dtype(x))

    return {"is_tensor": is_tensor, "is_ndarray": is_ndarray, "exact": exact, "ndarray_facts": ndarray_facts,
            "tensor_facts": tensor_facts, "span": span, "shares": shares, "snapshot": snapshot,
            "scalar_dtype": scalar_dtype}
