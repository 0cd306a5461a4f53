"""Probes for 06_rnn. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`,
`describe`, `forbid`.

Every probe receives plain NumPy data from the judge, builds the torch tensors the exercise asks
for (dtype and memory layout chosen by the judge: contiguous, a transposed view of a tensor stored
the other way round, or every other row of a tensor twice as tall whose gaps hold NaN), calls the
student's function and reports plain data: what kind of object came back, its dtype, shape and
values, gradients where asked, and whether the inputs were left untouched. Nothing here knows the
expected values.

Results are described BEFORE any conversion (type, dtype, shape, requires_grad, device, which
inputs they share memory with), then converted to float64 values. Nothing here solves a part.

Part isolation: `rnn_forward` is probed with a STAND-IN for `rnn_cell` swapped into the notebook's
namespace for the duration of the call. The stand-in is deliberately not an RNN cell
(sin(x W_ih^T + b_ih) + tanh(h W_hh^T - b_hh)); the judge computes what an unroll of it must
give, so a mistake in the rnn_cell part never costs points in the bptt part, and calling the
stand-in scores nothing. bptt_hidden_grads, per_step_norms and clip_grad_norm receive their
inputs from the judge (the hidden states too) and call nothing else of the student's.

Built-in cells: while the student's cells and rnn_forward run, every torch recurrent function
(torch.rnn_tanh_cell / lstm_cell / gru_cell, nn.RNNCell / LSTMCell / GRUCell / RNN / LSTM / GRU,
torch._VF.*, torch.ops.aten.*) raises an error that says so (see _no_builtin_cells).
"""
import math

import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_MISSING = object()


# --------------------------------------------------------------------------- building inputs
def _tensor(spec, requires_grad=False):
    """(leaf, view) from {"value": array, "dtype": name, "layout": name}.

    contiguous: the values as they are. transposed: stored with axes 0 and 1 swapped, handed over
    as .transpose(0, 1) (a non-contiguous view). strided: every other entry along axis 0 of a
    tensor twice as long whose gaps hold NaN. The view holds spec["value"]; the leaf is the tensor
    it was cut from. When grads are asked for, the view keeps its own .grad (retain_grad).
    """
    value = np.asarray(spec["value"], dtype=np.float64)
    dtype = _DTYPES[spec.get("dtype", "float64")]
    layout = spec.get("layout", "contiguous")
    if layout == "contiguous":
        leaf = torch.tensor(value, dtype=dtype)
    elif layout == "transposed":
        leaf = torch.tensor(np.ascontiguousarray(np.swapaxes(value, 0, 1)), dtype=dtype)
    elif layout == "strided":
        full = np.full((2 * value.shape[0],) + value.shape[1:], np.nan)
        full[::2] = value
        leaf = torch.tensor(full, dtype=dtype)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if requires_grad:
        leaf.requires_grad_(True)
    if layout == "transposed":
        view = leaf.transpose(0, 1)
    elif layout == "strided":
        view = leaf[::2]
    else:
        view = leaf
    if requires_grad and view is not leaf:
        view.retain_grad()
    return leaf, view


def _describe(obj, inputs=()):
    """What the student returned, recorded BEFORE any conversion: kind, dtype, shape,
    requires_grad, device, and which inputs (by position) share its memory; then float64 values
    (None if unreadable). Read through the platform's describe(), whose facts come from C-level
    types captured before the notebook ran: a cell that patches torch, or a Tensor subclass that
    lies about its dtype, changes nothing here."""
    facts = describe(obj, inputs={str(i): t for i, t in enumerate(inputs)})
    tensor = facts.get("type") == "torch.Tensor" and facts.get("exact")
    info = {"kind": "torch" if tensor else facts.get("type"),
            "dtype": None, "shape": None, "value": None, "requires_grad": None, "device": None,
            "aliases": []}
    if tensor:
        info.update(dtype=facts["dtype"], shape=list(facts["shape"]), requires_grad=facts["requires_grad"],
                    device=facts["device"], aliases=[int(a) for a in facts.get("aliases", [])])
        value = facts.get("value")
        if type(value) is np.ndarray and value.dtype.kind in "fiu":
            info["value"] = value.astype(np.float64)
    elif type(obj) in (int, float) or type(obj) in (np.float64, np.float32, np.int64, np.int32):
        info["value"] = np.array(float(obj))
        info["shape"] = []
    return info


def _snapshot(views):
    """Each input's shape and bytes, read by the platform's describe() (not torch.equal or
    clone, which a cell may patch); compared as plain bytes."""
    taken = []
    for view in views:
        facts = describe(view)
        value = facts.get("value")
        taken.append((facts.get("shape"), value.tobytes() if type(value) is np.ndarray else None))
    return taken


def _unchanged(views, before):
    return _snapshot(views) == before


def _grad_of(t):
    """t.grad's values in float64, read through TensorBase's own grad descriptor (a cell may
    shadow torch.Tensor.grad) and by describe() (not .numpy(), which a cell may patch)."""
    g = torch._C.TensorBase.__dict__["grad"].__get__(t)
    if g is None:
        return None
    value = describe(g).get("value")
    return value.astype(np.float64) if type(value) is np.ndarray else None


_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


def _sequence(obj):
    """obj is a tuple or list by its real bases (not isinstance, which a class can answer)."""
    bases = _MRO(type(obj))
    return tuple in bases or list in bases


def _genuine_tensor(obj):
    """obj is a plain torch.Tensor, as describe() reads it (a subclass answers for nothing)."""
    facts = describe(obj)
    return facts.get("type") == "torch.Tensor" and bool(facts.get("exact"))


def _graph_kept(info):
    """An _describe() record of a plain tensor that requires grad (the graph is not cut)."""
    return info is not None and info["kind"] == "torch" and info["requires_grad"] is True


def _number(obj):
    """A genuine int / float / NumPy number (not bool) as a float, as describe() reads it; else None."""
    facts = describe(obj)
    value = facts.get("value")
    if facts.get("type") in ("builtins.int", "builtins.float"):
        return float(value)
    if (facts.get("exact") and facts.get("shape") == [] and (facts.get("dtype") or "")[:1] in ("f", "i", "u")
            and type(value) in (int, float)):
        return float(value)
    return None


def _copies(t):
    """Fresh tensors holding each row of t (as describe() reads it; not .clone(), which a cell may patch)."""
    value = describe(t)["value"]
    return [torch.from_numpy(np.array(row)) for row in value]


# --------------------------------------------------------------------------- no built-in cells
# Every torch-level name of a recurrent kernel contains one of these: rnn_tanh(_cell), rnn_relu(_cell),
# lstm(_cell), gru(_cell), _thnn_fused_lstm_cell, quantized_gru_cell, _cudnn_rnn, mkldnn_rnn_layer, ...
_RECURRENT = [(r"(?i)rnn|lstm|gru", "write the cell from its equations (matrix products, sigmoid, tanh)")]
_ONE = torch.zeros(1, 1)
# Calls that must be refused on entry (forbid runs each with torch-function handling on and off).
_CANARIES = [lambda: torch.rnn_tanh_cell(_ONE, _ONE, _ONE, _ONE, _ONE[0], _ONE[0]),
             lambda: torch.ops.aten.gru_cell.default(_ONE, _ONE, _ONE.repeat(3, 1), _ONE.repeat(3, 1)),
             lambda: torch.lstm_cell(_ONE, (_ONE, _ONE), _ONE.repeat(4, 1), _ONE.repeat(4, 1))]


def _no_builtin_cells():
    """While the student's code runs, torch's own recurrent cells raise, whatever path reached them
    (torch.lstm_cell, torch._VF.lstm_cell, torch.ops.aten.lstm_cell, nn.LSTMCell's forward, a
    reference saved in a notebook cell), at the torch-function and at the kernel level: the
    platform's forbid(). (The cells are CompositeImplicitAutograd: a TorchDispatchMode would only
    see their addmm / sigmoid / tanh.)"""
    return forbid(_RECURRENT, canaries=_CANARIES)


# --------------------------------------------------------------------------- cells
_CELLS = {"rnn": "rnn_cell", "lstm": "lstm_cell", "gru": "gru_cell"}


def cell(kind, x, h, c, w_ih, w_hh, b_ih, b_hh, grads=None):
    """One call of student.rnn_cell / lstm_cell / gru_cell on tensors built from the specs.

    c is None except for "lstm". grads: None, or {"h": G_h, "c": G_c or None}: the probe then
    backpropagates L = sum(G_h * h_new) + sum(G_c * c_new) and reports the grads of every input.
    """
    want_grad = grads is not None
    names = ["x", "h"] + (["c"] if kind == "lstm" else []) + ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    specs = dict(zip(names, [x, h] + ([c] if kind == "lstm" else []) + [w_ih, w_hh, b_ih, b_hh]))
    views = {name: _tensor(s, requires_grad=want_grad)[1] for name, s in specs.items()}
    before = _snapshot(list(views.values()))
    fn = getattr(student, _CELLS[kind])
    if kind == "lstm":
        with _no_builtin_cells():
                result = fn(views["x"], (views["h"], views["c"]), views["weight_ih"], views["weight_hh"],
                        views["bias_ih"], views["bias_hh"])
        if not _sequence(result) or len(result) != 2:
            size = f" of length {len(result)}" if _sequence(result) else ""
            return {"error": f"lstm_cell must return a tuple (h_new, c_new), got {type_name(result)}{size}"}
        h_new, c_new = result
    else:
        with _no_builtin_cells():
            h_new = fn(views["x"], views["h"], views["weight_ih"], views["weight_hh"],
                       views["bias_ih"], views["bias_hh"])
        c_new = None
    given = list(views.values())
    report = {"error": None, "h": _describe(h_new, given), "c": None if c_new is None else _describe(c_new, given),
              "inputs_unchanged": _unchanged(list(views.values()), before)}
    if want_grad:
        pieces = []
        for t, info, g in ((h_new, report["h"], grads.get("h")), (c_new, report["c"], grads.get("c"))):
            if g is None:
                continue
            if not _graph_kept(info):
                report["grad_error"] = ("the result does not require grad: the computation graph was cut "
                                        "(.detach(), .numpy(), torch.no_grad() or a new tensor built from values)")
                return report
            pieces.append((t * torch.tensor(np.asarray(g), dtype=t.dtype)).sum())
        sum(pieces).backward()
        report["grad_error"] = None
        report["grads"] = {name: _grad_of(v) for name, v in views.items()}
    return report


# --------------------------------------------------------------------------- bptt part
class _StandInCell:
    """NOT an RNN cell: sin(x W_ih^T + b_ih) + tanh(h W_hh^T - b_hh). Swapped in for rnn_cell while
    rnn_forward is probed; counts its calls so the judge knows whether rnn_forward used it."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x, h, weight_ih, weight_hh, bias_ih, bias_hh):
        self.calls += 1
        return torch.sin(x @ weight_ih.T + bias_ih) + torch.tanh(h @ weight_hh.T - bias_hh)


class _SwapCell:
    """Put the stand-in rnn_cell into the namespace rnn_forward reads its globals from."""

    name = "rnn_cell"

    def __init__(self):
        self.stand_in = _StandInCell()

    def __enter__(self):
        fn = student.rnn_forward
        self.namespace = getattr(fn, "__globals__", None)
        if self.namespace is None:
            raise TypeError(f"rnn_forward must be a function, got {type_name(fn)}")
        self.saved = self.namespace.get(self.name, _MISSING)
        self.namespace[self.name] = self.stand_in
        return self

    def __exit__(self, *exc):
        if self.saved is _MISSING:
            self.namespace.pop(self.name, None)
        else:
            self.namespace[self.name] = self.saved
        return False


def forward(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs=None):
    """student.rnn_forward with the stand-in rnn_cell swapped in. With grad_hs, backpropagates
    L = sum(grad_hs * hs) and reports the gradients of every input (the notebook's convention:
    rnn_forward keeps the graph, full BPTT)."""
    return _forward(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs)[0]


def _forward(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs=None):
    """(report, hs, views) of one rnn_forward call with the stand-in cell."""
    want_grad = grad_hs is not None
    views = [_tensor(s, requires_grad=want_grad)[1] for s in (xs, h0, w_ih, w_hh, b_ih, b_hh)]
    before = _snapshot(views)
    swap = _SwapCell()
    with swap, _no_builtin_cells():
        hs = student.rnn_forward(*views)
    report = {"hs": _describe(hs, views), "inputs_unchanged": _unchanged(views, before),
              "stand_in_calls": swap.stand_in.calls, "grad_error": None, "grads": None}
    if want_grad:
        if not _graph_kept(report["hs"]):
            report["grad_error"] = ("hs does not require grad: the computation graph was cut "
                                    "(.detach(), .numpy(), torch.no_grad() or a new tensor built from values)")
            return report, hs, views
        (hs * torch.tensor(np.asarray(grad_hs), dtype=hs.dtype)).sum().backward()
        names = ["xs", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        report["grads"] = {name: _grad_of(v) for name, v in zip(names, views)}
    return report, hs, views


def hidden_grads(hs, w_hh, grad_hs):
    """student.bptt_hidden_grads on plain tensors (no graph: it must work by hand)."""
    views = [_tensor(s)[1] for s in (hs, w_hh, grad_hs)]
    before = _snapshot(views)
    deltas = student.bptt_hidden_grads(*views)
    return {"deltas": _describe(deltas, views), "inputs_unchanged": _unchanged(views, before)}


def norms(deltas):
    view = _tensor(deltas)[1]
    before = _snapshot([view])
    return {"norms": _describe(student.per_step_norms(view), [view]), "inputs_unchanged": _unchanged([view], before)}


def pipeline(hs, w_hh, grad_hs):
    """bptt_hidden_grads -> per_step_norms, as the demo does, on hidden states the judge computed
    for this test's own inputs (so a mistake in rnn_forward does not show here)."""
    views = [_tensor(s)[1] for s in (hs, w_hh, grad_hs)]
    deltas = student.bptt_hidden_grads(*views)
    if not _genuine_tensor(deltas):
        return {"error": f"bptt_hidden_grads must return a torch.Tensor, got {type_name(deltas)}"}
    return {"error": None, "norms": _describe(student.per_step_norms(deltas))}


def chain(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs):
    """The demo's chain, every step the student's: rnn_forward (stand-in cell) and a backward of
    sum(grad_hs * hs); bptt_hidden_grads(hs, W_hh, grad_hs); per_step_norms of its deltas;
    clip_grad_norm(list(deltas), max_norm = total / 4), then again with max_norm = 4 * total, then
    on all-zero gradients with max_norm = 1."""
    report, states, views = _forward(xs, h0, w_ih, w_hh, b_ih, b_hh, np.asarray(grad_hs["value"]))
    report["error"] = None
    if not _genuine_tensor(states):
        report["error"] = f"rnn_forward must return a torch.Tensor, got {type_name(states)}"
        return report
    G = _tensor(grad_hs)[1]
    deltas = student.bptt_hidden_grads(states.detach(), views[3].detach(), G)
    report["deltas"] = _describe(deltas)
    if not _genuine_tensor(deltas):
        report["error"] = f"bptt_hidden_grads must return a torch.Tensor, got {type_name(deltas)}"
        return report
    report["norms"] = _describe(student.per_step_norms(deltas))
    pieces = _copies(deltas)
    before = _snapshot(pieces)
    total = math.sqrt(sum(float((p ** 2).sum()) for p in pieces))
    result = student.clip_grad_norm(pieces, total / 4.0)
    if not _sequence(result) or len(result) != 2:
        report["error"] = f"clip_grad_norm must return a tuple (clipped, total_norm), got {type_name(result)}"
        return report
    clipped, got_total = result
    report["total_kind"] = type_name(got_total)
    report["total"] = _number(got_total)
    report["clipped"] = [_describe(t, pieces) for t in clipped] if _sequence(clipped) else []
    report["inputs_unchanged"] = _unchanged(pieces, before)
    # the same gradients with max_norm = 4 * total: below the limit, clipping must change nothing
    # (a scale of max_norm / total without the min(1, .) would blow them up 4 times)
    pieces = _copies(deltas)
    result = student.clip_grad_norm(pieces, total * 4.0)
    if not _sequence(result) or len(result) != 2:
        report["error"] = f"clip_grad_norm must return a tuple (clipped, total_norm), got {type_name(result)}"
        return report
    kept, kept_total = result
    report["kept_total"] = _number(kept_total)
    report["kept"] = [_describe(t, pieces) for t in kept] if _sequence(kept) else []
    # a step where no gradient reached: all zeros, total 0, min(1, max_norm / 0) = 1 (nothing scaled)
    zeros = [torch.zeros_like(d) for d in deltas]
    try:
        result = student.clip_grad_norm(zeros, 1.0)
        zero_clipped, zero_total = result
        report["zero_total"] = float(zero_total)
        report["zero"] = [_describe(t, zeros) for t in zero_clipped]
        report["zero_error"] = None
    except Exception as exc:      # reported by the test after the other checks of the chain
        report["zero_error"] = f"{type(exc).__name__}: {exc}"
    return report


def clip(grads, max_norm):
    """student.clip_grad_norm on a list of tensors; reports the clipped tensors and the total norm."""
    views = [_tensor(s)[1] for s in grads]
    before = _snapshot(views)
    result = student.clip_grad_norm(views, float(max_norm))
    if not _sequence(result) or len(result) != 2:
        size = f" of length {len(result)}" if _sequence(result) else ""
        return {"error": f"clip_grad_norm must return a tuple (clipped, total_norm), got {type_name(result)}{size}"}
    clipped, total = result
    total_kind = type_name(total)           # recorded before anything is converted
    if not _sequence(clipped):
        return {"error": f"clip_grad_norm must return a list of tensors as clipped, got {type_name(clipped)}"}
    return {"error": None, "clipped": [_describe(t, views) for t in clipped],
            "total": _number(total),
            "total_kind": total_kind, "inputs_unchanged": _unchanged(views, before)}
