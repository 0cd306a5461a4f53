"""Probes for 12_triton_softmax. They run INSIDE the sandbox, next to the student's notebook.

Kernels are launched here directly, always the same way the notebook specifies:

    kernel[(n_rows,)](out, x, x.stride(0), out.stride(0), n_cols, *extra, BLOCK_SIZE=block)

with `x` a column slice of a wider tensor (or a plain matrix) and `out` possibly a column slice of
a wider output too. Both live inside larger guarded buffers: the input's guard is NaN and the
output's guard (everything around the output rows) holds a sentinel no softmax can produce. A
kernel without masks therefore reads NaN or the neighbouring columns and writes into the guard,
which the tests report, instead of touching memory it does not own (the Triton interpreter does
no bounds checking: without the guard a missing mask could crash the sandbox, and every later
test, of every part, would pay for the restart).

All the cases of one kernel run in one probe call (launch_many), each case's exception reported
for that case: a kernel that crashes the sandbox anyway (a pointer far outside every buffer) costs
one restart for its own part, so the judge's restart budget is never spent for the other parts.
On a GPU a CUDA fault poisons the process's context for every later launch, so the probe ends the
sandbox at once and the next part gets a fresh one.

The wrappers softmax(x) and softmax_dropout(x, p, seed) are tested with a STAND-IN "kernel"
swapped in for the student's one (torch code with Triton's launch syntax, see _StandInKernel). It is
deliberately not a softmax: it writes 0.5 * tanh(x) + 0.5 through the strides it was given (and
for dropout keeps an element where a torch generator seeded with `seed` draws u >= p, scaled by
1 / (1 - p)); the judge computes the same. The wrapper tests see only what the wrapper passes
(tensors, strides, n_cols, p, seed, BLOCK_SIZE, grid), and a broken kernel never costs points
there, nor can it crash the sandbox.

This file is public (a notebook can read anything that enters the sandbox): it holds no solution
and no expected value. Probes run the student's code and report what it produced, read by the
platform's describe() (C-level facts captured before the notebook ran: type, dtype, shape, device,
aliasing, a copy of the bytes). Nothing is decided here: the guarded buffers themselves go back to
the judge, which finds stray writes and a changed input, and a cell that patches numpy or torch
(np.array_equal, Tensor.data_ptr, untyped_storage...) or a lying Tensor subclass changes nothing.
"""
import inspect

import numpy as np
import torch

SENTINEL = -7.25          # outputs of softmax and of dropout(softmax) are >= 0: a guard cell that
                          # no longer holds this value was written by the kernel
_MISSING = object()


def _device():
    if "DEVICE" in student:
        try:
            return torch.device(student.DEVICE)
        except Exception:
            pass
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _pad(block):
    # A kernel that ignores its masks touches at most BLOCK_SIZE - 1 elements past the end of a row.
    return 2 * int(block) + 64


def _input(xw, col0, n_cols, block):
    """xw (R, W) float32 placed in a NaN-guarded buffer; returns (buffer, x = wide[:, col0:col0+n_cols])."""
    xw = np.asarray(xw, dtype=np.float32)
    rows, width = xw.shape
    pad = _pad(block)
    buf = torch.full((pad + rows * width + pad,), float("nan"), dtype=torch.float32, device=_device())
    buf[pad:pad + rows * width] = torch.from_numpy(xw.reshape(-1).copy()).to(buf.device)
    wide = buf[pad:pad + rows * width].view(rows, width)
    return buf, wide[:, col0:col0 + n_cols]


def _output(rows, n_cols, out_stride, block):
    """A sentinel-filled buffer; returns (buffer, out = rows x n_cols with row stride out_stride)."""
    pad = _pad(block)
    buf = torch.full((pad + rows * out_stride + pad,), SENTINEL, dtype=torch.float32, device=_device())
    out = buf[pad:pad + rows * out_stride].view(rows, out_stride)[:, :n_cols]
    return buf, out


def _report(out_buf, in_buf):
    """Both whole guarded buffers as describe() reads them: the judge, which laid them out, reads the
    output rows, finds writes into the guard and compares the input with what it sent."""
    return {"out_buf": describe(out_buf), "in_buf": describe(in_buf)}


def launch(kernel, xw, col0, n_cols, out_stride, block, extras=None):
    """Launch the student's `kernel` once per entry of `extras` (the arguments between n_cols and
    BLOCK_SIZE: [] for the softmax kernels, [p, seed] for the dropout kernel), each time on a fresh
    guarded output. x = xw[:, col0:col0+n_cols] (row stride xw.shape[1]); out has row stride out_stride."""
    fn = getattr(student, kernel)
    rows, width = (int(n) for n in np.shape(xw))
    results = []
    for extra in (extras if extras is not None else [[]]):
        in_buf, x = _input(xw, col0, n_cols, block)
        out_buf, out = _output(rows, n_cols, out_stride, block)
        fn[(rows,)](out, x, int(width), int(out_stride), n_cols, *extra, BLOCK_SIZE=int(block))
        if out.is_cuda:
            torch.cuda.synchronize()
        results.append(_report(out_buf, in_buf))
    return results


def _describe_exc(exc):
    """'Type: message (cell N, line L)' for an exception the student's code raised in one case."""
    where, seen, e = "", set(), exc
    while e is not None and id(e) not in seen and not where:
        seen.add(id(e))
        tb = e.__traceback__
        while tb is not None:                      # the innermost frame of a notebook cell
            name = tb.tb_frame.f_code.co_filename
            if name.startswith("<cell "):
                where = f" ({name.strip('<>')}, line {tb.tb_lineno})"
            tb = tb.tb_next
        e = e.__cause__ or e.__context__
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable exception>"
    return f"{type(exc).__name__}: {message[:1500]}{where}"


def _poisoned(exc):
    """A CUDA fault (illegal address...) leaves the process's GPU context unusable for every later
    launch, of every part: such a sandbox must not answer again (the judge starts a fresh one)."""
    text = f"{type(exc).__name__} {exc}"
    return "illegal memory access" in text or "CUDA error" in text or "AcceleratorError" in text


def launch_many(kernel, cases):
    """launch(kernel, *case) for every case of one graded part, in ONE probe call: a kernel that
    crashes the sandbox costs one restart per part, not one per test (the judge allows only a few
    restarts per submission, and the other parts must keep their points). An exception in one case
    is reported for that case only."""
    results = []
    for case in cases:
        try:
            results.append({"runs": launch(kernel, *case)})
        except Exception as exc:                   # noqa: BLE001 - the student's error, reported per case
            if _poisoned(exc):
                import os
                os._exit(70)
            results.append({"error": _describe_exc(exc)})
    return results


# --------------------------------------------------------------------------- wrapper tests
def _softmax_signature(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, BLOCK_SIZE, **options):
    pass


def _dropout_signature(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, p, seed, BLOCK_SIZE,
                       **options):
    pass


class _StandInKernel:
    """Stands in for softmax_kernel / softmax_dropout_kernel while a wrapper is tested.

    kernel[grid](...) binds the arguments by the names the notebook specifies, checks what a Triton
    launch would need (tensors, a power-of-2 BLOCK_SIZE covering the row), then computes the rows
    with torch through the strides it was given, so wrong strides give wrong values (or an
    out-of-bounds error from torch), never a stray memory access. It computes 0.5 tanh(x) + 0.5,
    not a softmax; the dropout mask comes from a torch generator seeded with `seed`."""

    def __init__(self, dropout, x):
        self.dropout = dropout
        self.x = x                                 # the wrapper's input (its guarded buffer): aliasing
        self.calls = []

    def __getitem__(self, grid):
        def run(*args, **kwargs):
            sig = inspect.signature(_dropout_signature if self.dropout else _softmax_signature)
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"kernel launch does not match the notebook's signature: {exc}") from None
            a = bound.arguments
            g = grid(dict(a)) if callable(grid) else grid
            g = tuple(g) if describe(g).get("type") in ("builtins.tuple", "builtins.list") else (g,)
            n_rows = int(g[0])
            n_cols = int(a["n_cols"])
            out, x = a["output_ptr"], a["input_ptr"]
            if describe(out).get("type") != "torch.Tensor" or describe(x).get("type") != "torch.Tensor":
                raise TypeError("pass the output and input tensors themselves to the kernel")
            # BLOCK_SIZE (a power of 2 >= n_cols) and whether the input passed is x's own memory (then its
            # stride must be x.stride(0)) are decided by the judge from these facts
            self.calls.append({"grid": [int(v) for v in g], "n_cols": n_cols, "block": describe(a["BLOCK_SIZE"]),
                               "input_aliases_x": describe(x, inputs={"x": self.x}).get("aliases", []),
                               "in_stride": int(a["input_row_stride"]), "out_stride": int(a["output_row_stride"]),
                               "p": float(a["p"]) if self.dropout else None,
                               "seed": int(a["seed"]) if self.dropout else None})
            rows_in = torch.as_strided(x, (n_rows, n_cols), (int(a["input_row_stride"]), 1))
            rows_out = torch.as_strided(out, (n_rows, n_cols), (int(a["output_row_stride"]), 1))
            s = 0.5 * torch.tanh(rows_in.double()) + 0.5
            if self.dropout:
                p, seed = float(a["p"]), int(a["seed"])
                gen = torch.Generator(device="cpu").manual_seed(seed)
                u = torch.rand((n_rows, n_cols), generator=gen, dtype=torch.float64).to(s.device)
                s = torch.where(u >= p, s / (1.0 - p), torch.zeros_like(s))
            rows_out.copy_(s.to(rows_out.dtype))
        return run


class _Swap:
    """Put the stand-in kernel under `name` in the namespace the student's wrapper reads its globals from."""

    def __init__(self, wrapper, name, replacement):
        fn = getattr(student, wrapper)
        self.ns = getattr(fn, "__globals__", None)
        self.name, self.replacement = name, replacement

    def __enter__(self):
        if self.ns is None:
            self.saved = getattr(student, self.name) if self.name in student else _MISSING
            setattr(student, self.name, self.replacement)
        else:
            self.saved = self.ns.get(self.name, _MISSING)
            self.ns[self.name] = self.replacement
        return self

    def __exit__(self, *exc):
        if self.ns is None:
            if self.saved is not _MISSING:
                setattr(student, self.name, self.saved)
        elif self.saved is _MISSING:
            self.ns.pop(self.name, None)
        else:
            self.ns[self.name] = self.saved
        return False


def softmax_wrapper(xw, col0, n_cols):
    """student.softmax(x) for x = xw[:, col0:col0+n_cols], with the stand-in kernel swapped in.
    Aliasing is read against x's whole guarded buffer (named "x"): any memory of x's storage."""
    in_buf, x = _input(xw, col0, n_cols, 64)
    ref = _StandInKernel(dropout=False, x=in_buf)
    with _Swap("softmax", "softmax_kernel", ref):
        y = student.softmax(x)
    return {"out": describe(y, inputs={"x": in_buf}), "calls": ref.calls, "x": describe(x),
            "in_buf": describe(in_buf)}


def dropout_wrapper(xw, col0, n_cols, calls):
    """student.softmax_dropout(x, p, seed) for each [p, seed] of `calls`, stand-in kernel swapped in."""
    in_buf, x = _input(xw, col0, n_cols, 64)
    ref = _StandInKernel(dropout=True, x=in_buf)
    outputs = []
    with _Swap("softmax_dropout", "softmax_dropout_kernel", ref):
        for p, seed in calls:
            outputs.append(describe(student.softmax_dropout(x, float(p), int(seed)), inputs={"x": in_buf}))
    return {"outputs": outputs, "calls": ref.calls, "x": describe(x), "in_buf": describe(in_buf)}
