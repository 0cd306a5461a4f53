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
max-pooling kernel raises an error that says so, however the student's code reaches it (see _Blocked).

Results are described BEFORE any conversion (type, dtype, shape, requires_grad, device, whether
they share memory with the input), then converted to float64 values. Every expected value is
computed by the hidden tests in the judge process.
"""
import re
import traceback
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_MISSING = object()


# --------------------------------------------------------------------------- stand-ins
def _pair(v):
    if isinstance(v, (tuple, list)):
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
        if all(isinstance(v, (int, np.integer)) for v in key) and tuple(int(v) for v in key) in self.table:
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
        self.cols = torch.tensor(np.asarray(cols), dtype=x.dtype)
        self.own = own

    def __call__(self, x, kernel_size, stride=1, padding=0):
        try:
            same = (isinstance(x, torch.Tensor) and x.shape == self.x.shape and _pair(kernel_size) == self.k
                    and _pair(stride) == self.s and _pair(padding) == (0, 0) and bool(torch.equal(x, self.x)))
        except (TypeError, ValueError, IndexError):
            same = False
        if same:
            return self.cols.clone()
        if self.own is _MISSING:
            raise NameError("the notebook does not define 'im2col'")
        return self.own(x, kernel_size, stride, padding)


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
# Names of the torch functions / aten operators that would do parts 2 and 3 for the student, with
# the hint their error gives. Matched on the function's own name, whatever path reached it:
# F.conv2d, torch.conv2d, torch._C._VariableFunctions.conv2d, torch.ops.aten.convolution(.default),
# nn.Conv2d / nn.Unfold / nn.MaxPool2d (they call F.*), or a reference saved in an earlier cell.
_FORBIDDEN = [
    (re.compile(r"conv(?!ert)"), _CONV_HINT),            # conv1d/2d/3d, convolution, _convolution, conv_tbc, ...
    (re.compile(r"im2col"), _UNFOLD_HINT),               # F.unfold's kernel (torch._C._nn.im2col, aten.im2col)
    (re.compile(r"max_pool"), _POOL_HINT),               # max_pool1d/2d/3d(_with_indices)(_backward), adaptive/fractional
]


class _ForbiddenCall(RuntimeError):
    pass


def _op_name(func):
    """The bare name of a torch function or aten operator: 'convolution' for torch.ops.aten.convolution,
    its .default overload and torch.convolution alike."""
    packet = getattr(func, "overloadpacket", None)           # an OpOverload (aten.convolution.default)
    name = getattr(packet if packet is not None else func, "__name__", "")
    return name if isinstance(name, str) else ""


def _check_allowed(func):
    name = _op_name(func)
    if name == "unfold" and getattr(func, "__module__", None) == "torch.nn.functional":
        raise _ForbiddenCall(f"torch.nn.functional.unfold may not be used in this exercise: {_UNFOLD_HINT}")
    for pattern, hint in _FORBIDDEN:
        if pattern.search(name):
            raise _ForbiddenCall(f"torch's {name} may not be used in this exercise: {hint}")


class _FunctionGuard(TorchFunctionMode):
    """Sees every torch-level call (torch.*, F.*, torch._C.*, torch.ops.*, Tensor methods)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        _check_allowed(func)
        return func(*args, **(kwargs or {}))


def _forbidden_kernels():
    """Every aten operator overload (forward, backward, out=) whose name is a convolution, im2col or
    max_pool kernel: ['convolution', 'convolution.out', 'im2col', 'max_pool2d_with_indices', ...]."""
    names = []
    for full in torch._C._dispatch_get_all_op_names():
        if not full.startswith("aten::"):
            continue
        name = full[len("aten::"):]
        if any(pattern.search(name.split(".")[0]) for pattern, _ in _FORBIDDEN):
            names.append(name)
    return sorted(names)


_KERNELS = _forbidden_kernels()


def _refuse(name):
    def kernel(*args, **kwargs):
        _check_allowed(getattr(torch.ops.aten, name.split(".")[0]))
        raise _ForbiddenCall(f"torch's {name} may not be used in this exercise")
    return kernel


class _KernelGuard:
    """Below torch-function handling (torch._C.DisableTorchFunction() switches that off): a Python
    kernel that raises is registered over the CPU and Autograd kernels of every forbidden aten
    operator, and removed again on exit, which brings the real kernels back. A TorchDispatchMode
    would do the same but imports torch._dynamo on first use (+2-4 s and ~900 modules per sandbox)."""

    def __enter__(self):
        self.lib = torch.library.Library("aten", "IMPL")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # "Overriding a previously registered kernel"
            for name in _KERNELS:
                for key in ("CPU", "Autograd"):
                    try:
                        self.lib.impl(name, _refuse(name), key)
                    except Exception:   # noqa: BLE001 - an overload that takes no kernel at this key
                        pass
        return self

    def __exit__(self, *exc):
        self.lib._destroy()
        return False


def _below_torch_function(call):
    """call(t) with torch-function handling off: only the dispatcher-level guard can refuse it."""
    def run(t):
        with torch._C.DisableTorchFunction():
            return call(t)
    return run


class _Blocked:
    """While the student's im2col / conv2d / max-pooling run, every built-in convolution, unfold
    (im2col) and max-pooling kernel raises, at the torch-function and at the kernel level.

    Module attributes are not touched: a reference saved in a notebook cell, torch.ops.aten.* and
    torch._C.* all end in the same operators, which is where this looks. On entry a canary call
    must be refused, so a guard that a notebook cell disarmed in advance fails the check instead
    of letting the built-ins through."""

    def __enter__(self):
        self.modes = [_FunctionGuard(), _KernelGuard()]
        for mode in self.modes:
            mode.__enter__()
        try:
            for canary in (lambda t: torch.ops.aten.im2col.default(t, [1, 1], [1, 1], [0, 0], [1, 1]),
                           _below_torch_function(lambda t: torch._C._nn.im2col(t, [1, 1], [1, 1], [0, 0], [1, 1]))):
                try:
                    canary(torch.zeros(1, 1, 1, 1))
                except _ForbiddenCall:
                    continue
                raise RuntimeError("the checks could not block the built-in kernels in this notebook "
                                   "(was torch patched?); parts 2 and 3 cannot be graded")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for mode in reversed(self.modes):
            mode.__exit__(None, None, None)
        return False


# --------------------------------------------------------------------------- reporting helpers
def _tensor_report(out, inputs=()):
    """What came back, recorded BEFORE any conversion (type, dtype, shape, requires_grad, device,
    which inputs share its memory); then float64 values (None if not a real tensor)."""
    info = {"type": type_name(out), "dtype": None, "value": None, "shape": None, "requires_grad": None,
            "device": None, "aliases": []}
    if isinstance(out, torch.Tensor):
        info["dtype"] = str(out.dtype).replace("torch.", "")
        info["shape"] = [int(n) for n in out.shape]
        info["requires_grad"] = bool(out.requires_grad)
        info["device"] = str(out.device)
        try:
            mine = out.untyped_storage().data_ptr()
            info["aliases"] = [i for i, t in enumerate(inputs) if isinstance(t, torch.Tensor)
                               and out.numel() > 0 and t.untyped_storage().data_ptr() == mine]
        except Exception:   # noqa: BLE001 - no storage we can see: nothing shared
            pass
        if not out.is_complex():
            info["value"] = out.detach().to(torch.float64).cpu().numpy()
    return info


def _input(x, layout):
    """A float64 NCHW tensor from the judge's array. layout 'nhwc_view': x arrives as NHWC and is
    handed over as x.permute(0, 3, 1, 2), a non-contiguous view (as from channels-last storage)."""
    t = torch.tensor(np.array(x, dtype=np.float64))
    if layout == "nhwc_view":
        t = t.permute(0, 3, 1, 2)
    return t


def _arg(v):
    """kernel_size / stride / padding: ints stay ints, pairs (lists on the wire) become tuples."""
    return tuple(v) if isinstance(v, list) else v


def _where(exc):
    """' (cell 7, line 12)': the student's line that raised, as the platform reports it elsewhere."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell ")]
    return f" ({frames[-1].filename.strip('<>')}, line {frames[-1].lineno})" if frames else ""


def _number(value):
    if isinstance(value, bool):
        return {"type": "bool", "value": None}
    if isinstance(value, (int, np.integer)):
        return {"type": "int", "value": int(value)}
    if isinstance(value, (float, np.floating)):
        return {"type": "float", "value": float(value)}
    return {"type": type_name(value), "value": None}


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
    before = t.clone()
    with _Swap(conv_output_size=_SizeTable(sizes, _own("conv_output_size"))), _Blocked():
        out = student.im2col(t, _arg(kernel_size), _arg(stride), _arg(padding))
    report = _tensor_report(out, [t])
    report["input_unchanged"] = bool(torch.equal(t, before))
    return report


def conv2d(x, weight, bias, stride, padding, layout="nchw", sizes=()):
    t = _input(x, layout)
    w = torch.tensor(np.array(weight, dtype=np.float64))
    b = None if bias is None else torch.tensor(np.array(bias, dtype=np.float64))
    before = t.clone()
    with _Swap(conv_output_size=_SizeTable(sizes, _own("conv_output_size"))), _Blocked():
        out = student.conv2d(t, w, b, stride=_arg(stride), padding=_arg(padding))
    report = _tensor_report(out, [t, w, b])
    report["input_unchanged"] = bool(torch.equal(t, before))
    return report


def maxpool(x, kernel_size, stride=None, grad_out=None, layout="nchw", sizes=(), cols=None):
    """Forward, then (when grad_out is given) backward with that upstream gradient. cols: the
    judge's im2col(x, kernel_size, stride) of this x, for the im2col stand-in."""
    t = _input(x, layout)
    before = t.clone()
    ks, st = _arg(kernel_size), _arg(stride)
    report = {}
    stand_ins = {"conv_output_size": _SizeTable(sizes, _own("conv_output_size")),
                 "im2col": _ColumnsFor(t, ks, ks if st is None else st, cols, _own("im2col"))}
    with _Swap(**stand_ins), _Blocked():
        if st is None:
            out, cache = student.maxpool2d_forward(t, ks)
        else:
            out, cache = student.maxpool2d_forward(t, ks, st)
        report["out"] = _tensor_report(out, [t])
        if grad_out is not None:
            G = torch.tensor(np.array(grad_out, dtype=np.float64))
            G_before = G.clone()
            grad_x = student.maxpool2d_backward(G, cache)
            report["grad"] = _tensor_report(grad_x, [t, G])
            report["grad_out_unchanged"] = bool(torch.equal(G, G_before))
    report["input_unchanged"] = bool(torch.equal(t, before))
    return report


def basic_block(in_planes, planes, stride, state, x, train=False, grad_out=None):
    """Build student.BasicBlock(in_planes, planes, stride), load the judge's weights (float64),
    run forward in train or eval mode and, with grad_out, backward. Reports the state_dict layout
    when it does not match the judge's, otherwise the output and the gradients."""
    torch.manual_seed(0)
    block = student.BasicBlock(in_planes, planes, stride)
    report = {"is_module": isinstance(block, torch.nn.Module), "layout_ok": False}
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
    report["out"] = _tensor_report(out, [t])
    if grad_out is not None and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward(torch.tensor(np.array(grad_out, dtype=np.float64)))
        report["grad_x"] = None if t.grad is None else t.grad.numpy()
        report["param_grads"] = {
            name: (None if p.grad is None else p.grad.detach().numpy()) for name, p in block.named_parameters()
        }
    report["running"] = {k: v.detach().numpy() for k, v in block.state_dict().items() if "running" in k}
    return report
