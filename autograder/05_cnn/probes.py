"""Probes for 05_cnn. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation, and nothing here solves a part:

  conv_formulas   conv_output_size, conv2d_params, conv2d_flops: the student's, called directly.
  conv2d          the student's im2col and conv2d. conv_output_size is a STAND-IN: a table of the
                  output sizes of this test's own input (sent by the judge); any other call goes
                  to the student's own conv_output_size.
  maxpool         the student's maxpool2d_forward / maxpool2d_backward. conv_output_size is a
                  table stand-in as above, and im2col a stand-in that returns the columns the
                  judge computed for im2col(x, kernel_size, stride) of this test's own x; any
                  other call goes to the student's own im2col.
  resnet_block    the student's BasicBlock (built from nn.Conv2d / nn.BatchNorm2d).

While conv2d, im2col and max-pooling run, every built-in convolution, unfold (im2col) and
max-pooling kernel raises an error that says so, however the student's code reaches it (see
_blocked and the platform's forbid).

Results are described BEFORE any conversion (type, dtype, shape, requires_grad, device, whether
they share memory with the input), then converted to float64 values. Every expected value is
computed by the hidden tests in the judge process.
"""
import traceback

import numpy as np
import torch

_MISSING = object()


# --------------------------------------------------------------------------- stand-ins
_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


def _copy(t):
    """A fresh tensor holding t's values (not t.clone(), which a cell may patch)."""
    return torch.empty_like(t).copy_(t)


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


def _whole(v) -> bool:
    """v is a genuine int or NumPy integer, as describe() reads it (a subclass could answer for its value)."""
    facts = describe(v)
    return facts["type"] == "builtins.int" or (
        bool(facts.get("exact")) and facts.get("shape") == [] and (facts.get("dtype") or "").startswith(("int", "uint")))


def _pair(v):
    if type(v) in (tuple, list):
        return int(v[0]), int(v[1])
    return int(v), int(v)


class _SizeTable:
    """Stand-in for conv_output_size: answers the (size, kernel, stride, padding) of this test's
    own input from the judge's table; anything else goes to the student's own function."""

    def __init__(self, table, own):
        self.table = {tuple(int(v) for v in key): int(value) for key, value in table}
        self.own = own

    def __call__(self, size, kernel_size, stride=1, padding=0):
        key = (size, kernel_size, stride, padding)
        if all(_whole(v) for v in key) and tuple(int(v) for v in key) in self.table:
            return self.table[tuple(int(v) for v in key)]
        if self.own is _MISSING:
            raise NameError("the notebook does not define 'conv_output_size'")
        return self.own(size, kernel_size, stride, padding)


class _ColumnsFor:
    """Stand-in for im2col while max-pooling is probed: im2col(x, kernel_size, stride[, 0]) of the
    probe's own x returns the columns the judge computed; any other call goes to the student's
    own im2col."""

    def __init__(self, x, kernel_size, stride, cols, own):
        self.x, self.k, self.s = x, _pair(kernel_size), _pair(stride)
        self.facts = _bytes_of(x)
        self.cols = torch.tensor(np.asarray(cols), dtype=x.dtype)
        self.own = own

    def __call__(self, x, kernel_size, stride=1, padding=0):
        try:
            same = (_pair(kernel_size) == self.k and _pair(stride) == self.s and _pair(padding) == (0, 0)
                    and (x is self.x or _bytes_of(x) == self.facts))
        except (TypeError, ValueError, IndexError):
            same = False
        if same:
            return _copy(self.cols)
        if self.own is _MISSING:
            raise NameError("the notebook does not define 'im2col'")
        return self.own(x, kernel_size, stride, padding)


def _bytes_of(t):
    """(type, dtype, shape, bytes) of a tensor as the platform's describe() reads it (C-level facts,
    not torch.equal, which a cell may patch); compared as plain data."""
    facts = describe(t)
    value = facts.get("value")
    return (facts.get("type"), facts.get("exact"), facts.get("dtype"), facts.get("shape"),
            value.tobytes() if type(value) is np.ndarray else None)


# --------------------------------------------------------------------------- isolation helpers
class _Swap:
    """Temporarily replace notebook globals (functions not under test) by stand-ins."""

    def __init__(self, **refs):
        self.refs = refs
        self.saved = {}

    def __enter__(self):
        for name, ref in self.refs.items():
            self.saved[name] = getattr(student, name) if name in student else _MISSING
            setattr(student, name, ref)
        return self

    def __exit__(self, *exc):
        ns = student._namespace
        for name, old in self.saved.items():
            if old is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = old
        return False


_CONV_HINT = "build conv2d from your im2col and one matrix multiply"
_UNFOLD_HINT = "build im2col from F.pad and slicing / Tensor.unfold"
_POOL_HINT = "compute the window maxima and their gradient yourself"
# The torch functions / aten operators that would do parts 2 and 3 for the student, with the hint
# their error gives, matched by the platform's forbid() on the function's own name, whatever path
# reached it: F.conv2d, torch.conv2d, torch._C._VariableFunctions.conv2d,
# torch.ops.aten.convolution(.default), nn.Conv2d / nn.Unfold / nn.MaxPool2d (they call F.*), or a
# reference saved in an earlier cell; below torch-function handling, their aten kernels raise too.
_FORBIDDEN = [
    (r"conv(?!ert)", _CONV_HINT),            # conv1d/2d/3d, convolution, _convolution, conv_tbc, ...
    (r"im2col", _UNFOLD_HINT),               # F.unfold's kernel (torch._C._nn.im2col, aten.im2col)
    (r"max_pool", _POOL_HINT),               # max_pool1d/2d/3d(_with_indices)(_backward), adaptive/fractional
]
_FORBIDDEN_FUNCTIONS = [("torch.nn.functional.unfold", _UNFOLD_HINT)]   # F.unfold itself; Tensor.unfold is allowed
# Calls that must be refused on entry (forbid runs each with torch-function handling on and off).
_CANARIES = [lambda: torch.ops.aten.im2col.default(torch.zeros(1, 1, 1, 1), [1, 1], [1, 1], [0, 0], [1, 1]),
             lambda: torch._C._nn.im2col(torch.zeros(1, 1, 1, 1), [1, 1], [1, 1], [0, 0], [1, 1])]


def _blocked():
    """While the student's im2col / conv2d / max-pooling run, every built-in convolution, unfold
    (im2col) and max-pooling kernel raises an error that says so."""
    return forbid(_FORBIDDEN, functions=_FORBIDDEN_FUNCTIONS, canaries=_CANARIES)


# --------------------------------------------------------------------------- reporting helpers
def _tensor_report(out, inputs=None):
    """What came back, read by the platform's describe() BEFORE any conversion (C-level facts:
    type, dtype, shape, requires_grad, device, which of the named inputs share its memory), then
    its values in its own dtype. The judge decides every property from this."""
    return describe(out, inputs=inputs)


def _values(t):
    """A gradient's values read by describe() (None when there is none)."""
    return None if t is None else describe(t).get("value")


def _input(x, layout):
    """A float64 NCHW tensor from the judge's array. layout 'nhwc_view': x arrives as NHWC and is
    handed over as x.permute(0, 3, 1, 2), a non-contiguous view (as from channels-last storage)."""
    t = torch.tensor(np.array(x, dtype=np.float64))
    if layout == "nhwc_view":
        t = t.permute(0, 3, 1, 2)
    return t


def _arg(v):
    """kernel_size / stride / padding: ints stay ints, pairs (lists on the wire) become tuples."""
    return tuple(v) if type(v) is list else v


def _where(exc):
    """' (cell 7, line 12)': the student's line that raised, as the platform reports it elsewhere."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
    return f" ({frames[-1].filename.strip('<>')}, line {frames[-1].lineno})" if frames else ""


def _number(value):
    """{"type": "int" / "float" / "bool" / <type name>, "value"}: the kind read by describe() (a
    subclass of int or float is not an int or a float: it could answer for its own value)."""
    facts = describe(value)
    kind, dtype = facts["type"], facts.get("dtype") or ""
    if kind == "builtins.bool":
        return {"type": "bool", "value": None}
    numpy_scalar = facts.get("exact") and kind.startswith("numpy.") and facts.get("shape") == []
    if kind == "builtins.int" or (numpy_scalar and dtype.startswith(("int", "uint"))):
        return {"type": "int", "value": int(facts["value"])}
    if kind == "builtins.float" or (numpy_scalar and dtype.startswith("float")):
        return {"type": "float", "value": float(facts["value"])}
    return {"type": kind, "value": None}


# --------------------------------------------------------------------------- probes
def formulas(name, cases):
    """Call student.<name>(*args, **kwargs) for each case; report the value or the exception."""
    fn = getattr(student, name)
    results = []
    for args, kwargs in cases:
        args = [_arg(a) for a in args]
        kwargs = {k: _arg(v) for k, v in (kwargs or {}).items()}
        try:
            results.append(_number(fn(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - reported to the judge, which decides
            results.append({"type": "error", "value": None, "error": f"{type(exc).__name__}: {exc}{_where(exc)}"})
    return results


def _own(name):
    return getattr(student, name) if name in student else _MISSING


def im2col(x, kernel_size, stride, padding, layout="nchw", sizes=()):
    t = _input(x, layout)
    with _Swap(conv_output_size=_SizeTable(sizes, _own("conv_output_size"))), _blocked():
        out = student.im2col(t, _arg(kernel_size), _arg(stride), _arg(padding))
    report = _tensor_report(out, {"x": t})
    report["x_after"] = describe(t)   # the judge decides whether x was left unchanged
    return report


def conv2d(x, weight, bias, stride, padding, layout="nchw", sizes=()):
    t = _input(x, layout)
    w = torch.tensor(np.array(weight, dtype=np.float64))
    b = None if bias is None else torch.tensor(np.array(bias, dtype=np.float64))
    with _Swap(conv_output_size=_SizeTable(sizes, _own("conv_output_size"))), _blocked():
        out = student.conv2d(t, w, b, stride=_arg(stride), padding=_arg(padding))
    report = _tensor_report(out, {"x": t, "weight": w} if b is None else {"x": t, "weight": w, "bias": b})
    report["x_after"] = describe(t)   # the judge decides whether x was left unchanged
    return report


def maxpool(x, kernel_size, stride=None, grad_out=None, layout="nchw", sizes=(), cols=None):
    """Forward, then (when grad_out is given) backward with that upstream gradient. cols: the
    judge's im2col(x, kernel_size, stride) of this x, for the im2col stand-in."""
    t = _input(x, layout)
    ks, st = _arg(kernel_size), _arg(stride)
    report = {}
    stand_ins = {"conv_output_size": _SizeTable(sizes, _own("conv_output_size")),
                 "im2col": _ColumnsFor(t, ks, ks if st is None else st, cols, _own("im2col"))}
    with _Swap(**stand_ins), _blocked():
        if st is None:
            out, cache = student.maxpool2d_forward(t, ks)
        else:
            out, cache = student.maxpool2d_forward(t, ks, st)
        report["out"] = _tensor_report(out, {"x": t})
        if grad_out is not None:
            G = torch.tensor(np.array(grad_out, dtype=np.float64))
            grad_x = student.maxpool2d_backward(G, cache)
            report["grad"] = _tensor_report(grad_x, {"x": t, "G": G})
            report["G_after"] = describe(G)
    report["x_after"] = describe(t)   # the judge decides whether x (and G) were left unchanged
    return report


def basic_block(in_planes, planes, stride, state, x, train=False, grad_out=None):
    """Build student.BasicBlock(in_planes, planes, stride), load the judge's weights (float64),
    run forward in train or eval mode and, with grad_out, backward. Reports the state_dict layout
    when it does not match the judge's, otherwise the output and the gradients."""
    torch.manual_seed(0)
    block = student.BasicBlock(in_planes, planes, stride)
    report = {"is_module": torch.nn.Module in _MRO(type(block)), "layout_ok": False}
    if not report["is_module"]:
        report["type"] = type_name(block)
        return report
    block = block.double()
    own = block.state_dict()
    report["keys"] = {k: list(v.shape) for k, v in own.items()}
    if set(own) != set(state) or any(list(own[k].shape) != list(np.shape(state[k])) for k in state):
        return report
    block.load_state_dict({
        k: torch.tensor(np.array(v), dtype=own[k].dtype) for k, v in state.items()
    }, strict=True)
    report["layout_ok"] = True
    block.train(bool(train))
    t = torch.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    out = block(t)
    report["out"] = _tensor_report(out, {"x": t})
    if grad_out is not None and report["out"].get("exact") and report["out"].get("requires_grad"):
        out.backward(torch.tensor(np.array(grad_out, dtype=np.float64)))
        report["grad_x"] = _values(_grad_of(t))
        report["param_grads"] = {
            name: _values(_grad_of(p)) for name, p in block.named_parameters()
        }
    report["running"] = {k: v.detach().numpy() for k, v in block.state_dict().items() if "running" in k}
    return report
