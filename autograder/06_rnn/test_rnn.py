"""Hidden suite of 06_rnn.

Parts: rnn_cell (1), lstm_cell (3), gru_cell (2), bptt (2).

Cells: every input is a seeded NumPy array with odd sizes (batch 3, input 5, hidden 7, ...); the
probe builds torch tensors from it in the dtype and memory layout named here (contiguous, a
transposed view of a tensor stored the other way round, or every other row of a tensor twice as
tall whose gaps hold NaN). float32 inputs are drawn in float64 and rounded to float32 here, so
the float64 reference below sees exactly the values the student got. Expected values are
torch.nn.RNNCell / LSTMCell / GRUCell in float64 with the same weights, and their autograd
gradients for random upstream gradients.

bptt: expected hidden states and dL/dh_t come from torch autograd in float64 (retain_grad on
every state of a reference unroll, L = sum_t <G_t, h_t> with random G_t). rnn_forward runs with
probes.py's stand-in cell (not an RNN cell; its unroll is computed here), or, when the student's
rnn_forward never calls rnn_cell, is held to the real tanh RNN.

Every input is drawn from the submission's seed (sub.seed) and the case, so one notebook always
gets the same inputs and an answer table from another notebook is for other inputs.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail

# --------------------------------------------------------------------------- tolerances
# float64: student and reference (PyTorch's fused cell kernels) compute the same formulas in
# float64 and differ only in the order of additions / the sigmoid formula: measured <= 3.6e-15 on
# these values. 1e-10 leaves four orders of margin; every mistake in mutants/ is off by >= 1e-2.
F64 = dict(atol=1e-10, rtol=1e-10)
# float32: the student computes in float32 from the exact inputs the float64 reference sees; the
# pre-activations are sums of ~10 O(1) products. Measured max error against the float64 reference,
# of the solution and of torch.nn's own cells run in float32: 2.1e-7. 2e-5 is ~100x that.
F32 = dict(atol=2e-5, rtol=2e-5)
# float32 with inputs scaled by +-30 (pre-activations up to ~+-150): the pre-activations carry
# absolute rounding errors ~1e-5, which move the few unsaturated gates by about as much: measured
# 2.7e-6 at most (solution and torch.nn cells in float32). 2e-4 gives ~70x margin; the mistakes
# this test is for (NaN from exp overflow, a wrong formula) are O(1).
F32_LARGE = dict(atol=2e-4, rtol=2e-4)
# gradients in float64: autograd of the student's graph vs autograd of the nn cells, ~1e-15.
G64 = dict(atol=1e-9, rtol=1e-9)
# BPTT in float64 through 20 steps: the recurrence is a product of 20 Jacobians; the solution (by
# hand) and autograd differ by <= 1.2e-15 relative to each step's largest |dL/dh_t| (measured, also
# for norms spanning 1e-9 .. 1e3). rtol 1e-8 is far below any mistake (O(1) relative).
BPTT64_RTOL = 1e-8


def tolerance(dtype, large=False):
    if dtype == "float64":
        return F64
    return F32_LARGE if large else F32


# --------------------------------------------------------------------------- inputs
def as_dtype(a, dtype):
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


def spec(value, dtype="float64", layout="contiguous"):
    return {"value": as_dtype(value, dtype), "dtype": dtype, "layout": layout}


LAYOUT_WORDS = {"contiguous": "", "transposed": " (a transposed view, non-contiguous)",
                "strided": " (every other row of a larger tensor, non-contiguous)"}


def describe(s):
    return f"{s['dtype']} {np.asarray(s['value']).shape}{LAYOUT_WORDS[s['layout']]}"


def joined(shown):
    return "; ".join(f"{k}: {v}" for k, v in shown.items())


def t64(a):
    return torch.tensor(np.array(a), dtype=torch.float64)


def probe(sub, name, *args, what, **kwargs):
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def readable_tensor(info, what, dtype=None):
    if info is None or info["kind"] != "torch":
        kind = None if info is None else info["kind"]
        hint = " (a NumPy array: keep the result a torch tensor)" if kind and kind.startswith("numpy") else ""
        fail(f"{what} must be a torch.Tensor, got {kind}{hint}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    if dtype is not None:
        expect(info["dtype"] == dtype, f"{what} has dtype {info['dtype']}; it must keep the inputs' dtype {dtype}")
    return np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])


def check_tensor(info, expected, what, tol, shown, dtype=None, hint=""):
    got = readable_tensor(info, what, dtype)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}; {joined(shown)}")
    if np.isfinite(expected).all() and not np.isfinite(got).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        fail(f"{what}: NaN/inf at index {index}{hint}; {joined(shown)}")
    try:
        assert_close(got, expected, what=what, inputs=joined(shown), **tol)
    except AssertionError as exc:
        fail(f"{exc}{hint}")


# --------------------------------------------------------------------------- cell references
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
MODULES = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}
FN = {"rnn": "rnn_cell", "lstm": "lstm_cell", "gru": "gru_cell"}


def reference_cell(kind, x, h, c, w_ih, w_hh, b_ih, b_hh, grads=None):
    """torch.nn cell in float64 with the given weights: (h_new, c_new or None, grads or None)."""
    I, H = w_ih.shape[1], w_hh.shape[1]
    module = MODULES[kind](I, H).double()
    with torch.no_grad():
        for name, value in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(module, name).copy_(t64(value))
    leaves = {"x": t64(x).requires_grad_(True), "h": t64(h).requires_grad_(True)}
    if kind == "lstm":
        leaves["c"] = t64(c).requires_grad_(True)
        h_new, c_new = module(leaves["x"], (leaves["h"], leaves["c"]))
    else:
        h_new, c_new = module(leaves["x"], leaves["h"]), None
    grad_out = None
    if grads is not None:
        loss = (h_new * t64(grads["h"])).sum()
        if c_new is not None and grads.get("c") is not None:
            loss = loss + (c_new * t64(grads["c"])).sum()
        loss.backward()
        grad_out = {name: leaf.grad.numpy() for name, leaf in leaves.items()}
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            grad_out[name] = getattr(module, name).grad.numpy()
    return (h_new.detach().numpy(), None if c_new is None else c_new.detach().numpy(), grad_out)


def rng_for(sub_seed, case):
    """Inputs from the submission's seed and the case (an int or a list of ints)."""
    return np.random.default_rng([sub_seed, *np.atleast_1d(case).tolist()])


def cell_inputs(kind, seed, B, I, H, dtype="float64", scale=1.0, layouts=None, sub_seed=0, bias_push=0.0):
    """Seeded inputs with O(1) pre-activations (every gate away from 0 and 1), non-zero biases.

    scale multiplies x and h (large magnitudes); layouts maps input names to memory layouts;
    bias_push moves both biases of every gate away from 0 by that much, in the direction of their
    sum: every pre-activation is about +-2 * bias_push, every gate saturates."""
    rng = rng_for(sub_seed, seed)
    n = GATES[kind] * H
    values = {
        "x": rng.standard_normal((B, I)) * scale,
        "h": np.tanh(rng.standard_normal((B, H))) * scale,
        "c": rng.standard_normal((B, H)) * 1.5 * scale if kind == "lstm" else None,
        "w_ih": rng.standard_normal((n, I)) / math.sqrt(I),
        "w_hh": rng.standard_normal((n, H)) / math.sqrt(H),
        "b_ih": rng.standard_normal(n) * 0.5,
        "b_hh": rng.standard_normal(n) * 0.5,
    }
    push = np.sign(values["b_ih"] + values["b_hh"]) * bias_push    # the same sign for both biases of a gate
    values["b_ih"], values["b_hh"] = values["b_ih"] + push, values["b_hh"] + push
    layouts = layouts or {}
    return {name: None if v is None else spec(v, dtype, layouts.get(name, "contiguous")) for name, v in values.items()}


ARG_NAMES = {"x": "x", "h": "h", "c": "c", "w_ih": "weight_ih", "w_hh": "weight_hh",
             "b_ih": "bias_ih", "b_hh": "bias_hh"}

HINTS = {
    "rnn": "; h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) with both biases",
    "lstm": "; PyTorch's row blocks are i, f, g, o; the candidate g uses tanh, the gates sigmoid; "
            "c' = f*c + i*g, h' = o*tanh(c')",
    "gru": "; PyTorch's row blocks are r, z, n; n = tanh(x W_in^T + b_in + r*(h W_hn^T + b_hn)), "
           "h' = (1-z)*n + z*h",
}


def shown_inputs(kind, inputs):
    return {ARG_NAMES[k]: describe(v) for k, v in inputs.items() if v is not None}


def run_cell(sub, kind, case, inputs, large=False, grads=None):
    """Probe the student's cell, compare h (and c) with the torch.nn cell; returns (report, ref)."""
    args = [inputs[k] for k in ("x", "h", "c", "w_ih", "w_hh", "b_ih", "b_hh")]
    what = f"{FN[kind]} [{case}]"
    report = probe(sub, "cell", kind, *args, grads, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    raw = [None if a is None else a["value"] for a in args]
    ref = reference_cell(kind, *raw, grads=grads)
    dtype = inputs["x"]["dtype"]
    shown = shown_inputs(kind, inputs)
    if kind == "lstm":   # c first: a wrong c explains a wrong h
        check_tensor(report["c"], ref[1], f"{what}: c_new", tolerance(dtype, large), shown, dtype, HINTS[kind])
    name = "h_new" if kind == "lstm" else "h'"
    check_tensor(report["h"], ref[0], f"{what}: {name}", tolerance(dtype, large), shown, dtype, HINTS[kind])
    expect(report["inputs_unchanged"], f"{what} changed one of its inputs in place; compute new tensors instead")
    return report, ref


def cell_cases(kind, base, sub_seed=0):
    """name -> (inputs, large): odd sizes, both dtypes, non-contiguous views, large magnitudes."""
    def cell_inputs_(*args, **kwargs):
        return cell_inputs(*args, **kwargs, sub_seed=sub_seed)
    non_contiguous = {"x": "strided", "h": "transposed", "c": "strided",
                      "w_ih": "transposed", "w_hh": "transposed", "b_ih": "strided", "b_hh": "strided"}
    return {
        "float64 B=3 I=5 H=7": (cell_inputs_(kind, base + 1, 3, 5, 7), False),
        "float32 B=1 I=6 H=5": (cell_inputs_(kind, base + 2, 1, 6, 5, "float32"), False),
        "float64 B=4 I=3 H=9, non-contiguous x, h, weights and biases":
            (cell_inputs_(kind, base + 3, 4, 3, 9, layouts=non_contiguous), False),
        "float32 B=5 I=7 H=3, transposed weights":
            (cell_inputs_(kind, base + 4, 5, 7, 3, "float32", layouts={"w_ih": "transposed", "w_hh": "transposed"}), False),
        "float64 B=3 I=5 H=6, inputs x30 (saturated gates)": (cell_inputs_(kind, base + 5, 3, 5, 6, scale=30.0), True),
        "float32 B=2 I=4 H=5, inputs x-30 (saturated gates)":
            (cell_inputs_(kind, base + 6, 2, 4, 5, "float32", scale=-30.0), True),
        # pre-activations beyond +-88, where float32 exp overflows: a tanh or sigmoid written with
        # exp (e^a - e^-a) / (e^a + e^-a) gives inf / inf = NaN; x30 alone reaches 88 only by chance
        "float32 B=3 I=4 H=5, pre-activations about +-200 (every gate saturated, exp overflows)":
            (cell_inputs_(kind, base + 7, 3, 4, 5, "float32", scale=3.0, bias_push=100.0), True),
    }


def check_cell_gradients(sub, kind, seed):
    inputs = cell_inputs(kind, seed, 3, 5, 7, sub_seed=sub.seed)
    rng = rng_for(sub.seed, seed + 50)
    grads = {"h": rng.standard_normal((3, 7)), "c": rng.standard_normal((3, 7)) if kind == "lstm" else None}
    what = f"gradients of {FN[kind]} [float64 B=3 I=5 H=7, random upstream gradients]"
    report, ref = run_cell(sub, kind, "float64 B=3 I=5 H=7, gradients", inputs, grads=grads)
    if report.get("grad_error"):
        fail(f"{what}: {report['grad_error']}")
    expected = ref[2]
    shown = shown_inputs(kind, inputs)
    for name in expected:
        arg = ARG_NAMES.get(name, name)
        got = report["grads"].get(arg)
        if got is None:
            fail(f"{what}: no gradient reached {arg} (compute the result from {arg} with torch operations)")
        assert_close(got, expected[name], what=f"{what}: d L / d {arg}", inputs=joined(shown), **G64)


# =========================================================================== rnn_cell (1)
RNN_CASES = cell_cases("rnn", 600)


@pytest.mark.part("rnn_cell")
@pytest.mark.parametrize("case", list(RNN_CASES))
def test_rnn_cell_values(sub, case):
    """rnn_cell: tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) in the inputs' dtype, inputs untouched."""
    inputs, large = cell_cases("rnn", 600, sub.seed)[case]
    run_cell(sub, "rnn", case, inputs, large)


@pytest.mark.part("rnn_cell")
def test_rnn_cell_gradients(sub):
    """rnn_cell: gradients reach x, h and every weight and bias."""
    check_cell_gradients(sub, "rnn", 610)


# =========================================================================== lstm_cell (3)
LSTM_CASES = cell_cases("lstm", 620)


@pytest.mark.part("lstm_cell")
@pytest.mark.parametrize("case", list(LSTM_CASES))
def test_lstm_cell_values(sub, case):
    """lstm_cell: gates i, f, g, o in PyTorch's order, c' = f*c + i*g, h' = o*tanh(c')."""
    inputs, large = cell_cases("lstm", 620, sub.seed)[case]
    run_cell(sub, "lstm", case, inputs, large)


@pytest.mark.part("lstm_cell")
def test_lstm_cell_gradients(sub):
    """lstm_cell: gradients reach x, h, c and every weight and bias."""
    check_cell_gradients(sub, "lstm", 630)


# =========================================================================== gru_cell (2)
GRU_CASES = cell_cases("gru", 640)


@pytest.mark.part("gru_cell")
@pytest.mark.parametrize("case", list(GRU_CASES))
def test_gru_cell_values(sub, case):
    """gru_cell: gates r, z, n in PyTorch's order, the reset gate on (W_hn h + b_hn), h' = (1-z)*n + z*h."""
    inputs, large = cell_cases("gru", 640, sub.seed)[case]
    run_cell(sub, "gru", case, inputs, large)


@pytest.mark.part("gru_cell")
def test_gru_cell_gradients(sub):
    """gru_cell: gradients reach x, h and every weight and bias."""
    check_cell_gradients(sub, "gru", 650)


# =========================================================================== bptt (2)
def rnn_weights(rng, I, H, gain):
    """W_hh ~ N(0, gain^2 / H): gain 0.5 vanishes over 20 steps, gain 4 explodes (chaotic regime)."""
    return (rng.standard_normal((H, I)) / math.sqrt(I), rng.standard_normal((H, H)) * gain / math.sqrt(H),
            rng.standard_normal(H) * 0.3, rng.standard_normal(H) * 0.3)


def reference_unroll(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs=None):
    """(hs, deltas) in float64: deltas[t] = dL/dh_t by autograd for L = sum_t <G_t, h_t>."""
    w_ih, w_hh, b_ih, b_hh = (t64(a).requires_grad_(True) for a in (w_ih, w_hh, b_ih, b_hh))
    h = t64(h0)
    states = []
    for x in t64(xs):
        h = torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)    # requires grad through the weights
        h.retain_grad()
        states.append(h)
    hs = torch.stack(states).detach().numpy()
    if grad_hs is None:
        return hs, None
    sum((t64(g) * s).sum() for g, s in zip(grad_hs, states)).backward()
    return hs, torch.stack([s.grad for s in states]).numpy()


def unroll_inputs(seed, T, B, I, H, gain, grad="all", sub_seed=0):
    rng = rng_for(sub_seed, seed)
    xs = rng.standard_normal((T, B, I))
    h0 = np.tanh(rng.standard_normal((B, H)))
    w = rnn_weights(rng, I, H, gain)
    G = rng.standard_normal((T, B, H))
    if grad == "last":
        G[:-1] = 0.0
    return xs, h0, w, G


def stand_in_unroll(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs=None):
    """The unroll of probes.py's stand-in cell, sin(x W_ih^T + b_ih) + tanh(h W_hh^T - b_hh), in
    float64: (hs, {input: dL/d input} for L = sum(grad_hs * hs) or None)."""
    leaves = [t64(a).requires_grad_(grad_hs is not None) for a in (xs, h0, w_ih, w_hh, b_ih, b_hh)]
    xs_t, h, w_ih_t, w_hh_t, b_ih_t, b_hh_t = leaves
    states = []
    for x in xs_t:
        h = torch.sin(x @ w_ih_t.T + b_ih_t) + torch.tanh(h @ w_hh_t.T - b_hh_t)
        states.append(h)
    hs = torch.stack(states)
    if grad_hs is None:
        return hs.detach().numpy(), None
    (hs * t64(grad_hs)).sum().backward()
    names = ["xs", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    return hs.detach().numpy(), {n: leaf.grad.numpy() for n, leaf in zip(names, leaves)}


def tanh_unroll_grads(xs, h0, w_ih, w_hh, b_ih, b_hh, grad_hs):
    """The real tanh RNN unroll and its input gradients (for an rnn_forward that never calls rnn_cell)."""
    leaves = [t64(a).requires_grad_(True) for a in (xs, h0, w_ih, w_hh, b_ih, b_hh)]
    xs_t, h, w_ih_t, w_hh_t, b_ih_t, b_hh_t = leaves
    states = []
    for x in xs_t:
        h = torch.tanh(x @ w_ih_t.T + b_ih_t + h @ w_hh_t.T + b_hh_t)
        states.append(h)
    hs = torch.stack(states)
    (hs * t64(grad_hs)).sum().backward()
    names = ["xs", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    return hs.detach().numpy(), {n: leaf.grad.numpy() for n, leaf in zip(names, leaves)}


FORWARD_CASES = ["float64 T=20 B=3 I=5 H=7", "float32 T=20 B=2 I=3 H=5, xs a transposed view"]


def forward_specs(sub, case):
    dtype = case.split()[0]
    xs, h0, (w_ih, w_hh, b_ih, b_hh), G = unroll_inputs(660 if dtype == "float64" else 661,
                                                        20, *((3, 5, 7) if dtype == "float64" else (2, 3, 5)), 1.0,
                                                        sub_seed=sub.seed)
    layout = "transposed" if "transposed" in case else "contiguous"
    specs = [spec(xs, dtype, layout), spec(h0, dtype, "strided" if dtype == "float32" else "contiguous"),
             spec(w_ih, dtype), spec(w_hh, dtype), spec(b_ih, dtype), spec(b_hh, dtype)]
    return dtype, specs, G


@pytest.mark.part("bptt")
@pytest.mark.parametrize("case", FORWARD_CASES)
def test_rnn_forward(sub, case):
    """rnn_forward: hs[t-1] = h_t for t = 1..T, in the inputs' dtype, inputs untouched."""
    dtype, specs, _ = forward_specs(sub, case)
    what = f"rnn_forward [{case}]"
    report = probe(sub, "forward", *specs, what=what)
    raw = [s["value"] for s in specs]
    if report["stand_in_calls"]:
        hs, _ = stand_in_unroll(*raw)
        hint = ("; hs[t-1] = h_t for t = 1..T (the state after step t, h_0 not included), each h_t = "
                "rnn_cell(x_t, h_{t-1}, ...) (while this part is graded, rnn_cell is the grader's stand-in)")
    else:
        hs, _ = reference_unroll(*raw)
        hint = "; hs[t-1] = h_t for t = 1..T (the state after step t, h_0 not included)"
    shown = {"xs": describe(specs[0]), "h0": describe(specs[1])}
    check_tensor(report["hs"], hs, f"{what}: hs", tolerance(dtype), shown, dtype, hint)
    expect(report["inputs_unchanged"], f"{what} changed one of its inputs in place")


@pytest.mark.part("bptt")
def test_rnn_forward_keeps_the_graph(sub):
    """rnn_forward keeps the graph: gradients reach xs, h0 and every weight through all steps."""
    # the notebook's convention: rnn_forward does NOT detach; autograd through hs reaches xs, h0
    # and every weight, through all 20 steps (full BPTT, not truncated)
    dtype, specs, G = forward_specs(sub, FORWARD_CASES[0])
    what = f"rnn_forward [{FORWARD_CASES[0]}], then backward of sum(G * hs) with a random G"
    report = probe(sub, "forward", *specs, G, what=what)
    if report["grad_error"]:
        fail(f"{what}: {report['grad_error']}")
    raw = [s["value"] for s in specs]
    _, want = (stand_in_unroll(*raw, grad_hs=G) if report["stand_in_calls"] else tanh_unroll_grads(*raw, G))
    for name, expected in want.items():
        got = report["grads"][name]
        if got is None:
            fail(f"{what}: no gradient reached {name}; rnn_forward must keep the graph (no .detach() of the state)")
        # float64 autograd of the same operations in another order: ~1e-14 relative; 1e-9 margin
        assert_close(got, expected, what=f"{what}: d L / d {name}", **G64,
                     inputs="the gradient must flow through every step (no detach between steps)")


BPTT_CASES = {
    "float64 T=20 B=3 H=7, gain 0.5 (vanishing), random G at every step": (670, 0.5, "all"),
    "float64 T=20 B=3 H=7, gain 3 (growing), random G at every step": (671, 3.0, "all"),
    "float64 T=20 B=2 H=9, gain 1, G on the last step only": (672, 1.0, "last"),
}


@pytest.mark.part("bptt", weight=2)
@pytest.mark.parametrize("case", list(BPTT_CASES))
def test_bptt_hidden_grads(sub, case):
    """bptt_hidden_grads: dL/dh_t by the recurrence, vanishing, growing and last-step-only cases."""
    seed, gain, grad = BPTT_CASES[case]
    H = 9 if "H=9" in case else 7
    B = 2 if "B=2" in case else 3
    xs, h0, (w_ih, w_hh, b_ih, b_hh), G = unroll_inputs(seed, 20, B, 5, H, gain, grad, sub_seed=sub.seed)
    hs, deltas = reference_unroll(xs, h0, w_ih, w_hh, b_ih, b_hh, G)
    specs = [spec(hs), spec(w_hh, layout="transposed"), spec(G)]
    what = f"bptt_hidden_grads [{case}]"
    report = probe(sub, "hidden_grads", *specs, what=what)
    # each step's gradient has its own scale (1e-10 .. 1e3): compare relative to that step
    scale = np.abs(deltas).reshape(20, -1).max(axis=1)[:, None, None]
    got = readable_tensor(report["deltas"], f"{what}: result", "float64")
    if got.shape != deltas.shape:
        fail(f"{what}: shape {got.shape} but expected {deltas.shape} (one dL/dh_t per step); hs, grad_hs: (20, {B}, {H})")
    hint = ("; delta_T = G_T, delta_t = G_t + ((1 - h_{t+1}^2) * delta_{t+1}) @ W_hh: add G at every step, "
            "use the NEXT state's tanh derivative and W_hh (not W_hh^T)")
    with np.errstate(divide="ignore", invalid="ignore"):
        try:
            assert_close(got / scale, deltas / scale, atol=BPTT64_RTOL, rtol=BPTT64_RTOL,
                         what=f"{what}: dL/dh_t (each step divided by its largest |value|)",
                         inputs=f"hs, grad_hs: (20, {B}, {H}); weight_hh (non-contiguous view) ({H}, {H})")
        except AssertionError as exc:
            fail(f"{exc}{hint}")
    expect(report["inputs_unchanged"], f"{what} changed one of its inputs in place")


@pytest.mark.part("bptt")
def test_per_step_norms(sub):
    """per_step_norms: the Frobenius norm of each step's gradient, over 12 orders of magnitude."""
    rng = rng_for(sub.seed, 680)
    deltas = rng.standard_normal((20, 3, 7)) * np.logspace(-9, 3, 20)[:, None, None]
    what = "per_step_norms [(20, 3, 7) deltas from 1e-9 to 1e3]"
    report = probe(sub, "norms", spec(deltas), what=what)
    expected = np.sqrt((deltas ** 2).sum(axis=(1, 2)))
    got = readable_tensor(report["norms"], f"{what}: result")
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}: one norm per step over batch and hidden")
    # a norm of 21 float64 numbers: relative error ~1e-15 whatever the formula (sqrt of sum, .norm())
    assert_close(got, expected, atol=0.0, rtol=1e-9, what=what)


@pytest.mark.part("bptt")
@pytest.mark.parametrize("gain", [0.5, 4.0])
def test_gradient_norm_behaviour(sub, gain):
    """The demo's pipeline: BPTT with the loss on h_T only, then norms; vanishing / exploding.
    The hidden states come from the judge's own unroll (rnn_forward is graded by itself)."""
    T, B, I, H = 20, 3, 5, 31
    for attempt in range(50):       # draws from sub.seed until the inputs show the regime
        xs, h0, (w_ih, w_hh, b_ih, b_hh), G = unroll_inputs([690 + int(gain), attempt], T, B, I, H, gain, "last",
                                                            sub_seed=sub.seed)
        h0 = np.zeros_like(h0)
        hs, deltas = reference_unroll(xs, h0, w_ih, w_hh, b_ih, b_hh, G)
        expected = np.sqrt((deltas ** 2).sum(axis=(1, 2)))
        ratio = expected[0] / expected[-1]
        if (ratio < 1e-5) if gain < 1 else (ratio > 1e2):
            break
    else:
        raise AssertionError(f"suite inputs lost their regime: {ratio}")
    what = f"||dL/dh_t|| per step [T=20 B=3 H=31, W_hh gain {gain}, loss on h_T only]"
    report = probe(sub, "pipeline", spec(hs), spec(w_hh), spec(G), what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    got = readable_tensor(report["norms"], f"{what}: norms")
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}")
    got_ratio = got[0] / got[-1] if got[-1] != 0 else float("inf")
    word = "vanish (ratio far below 1)" if gain < 1 else "explode (ratio far above 1)"
    # float64 by hand vs autograd through 20 steps: relative error ~1e-13 (see BPTT64_RTOL)
    assert_close(got, expected, atol=0.0, rtol=BPTT64_RTOL, what=what,
                 inputs=f"||dL/dh_1|| / ||dL/dh_T|| = {got_ratio:.3g}: with this gain it should {word}")


CLIP_CASES = {
    "3 tensors (3, 5), (7,), (2, 3, 4), total norm above max_norm": ((3, 5), (7,), (2, 3, 4)),
    "float32 (5, 3) transposed view and (9,), total norm above max_norm": ((5, 3), (9,)),
    "2 tensors (4, 3), (5,), total norm below max_norm": ((4, 3), (5,)),
    # a step where no gradient reached (min(1, max_norm / 0) = 1, as torch.nn.utils.clip_grad_norm_):
    # max_norm / total_norm in Python floats raises ZeroDivisionError here
    "2 tensors (3, 4), (6,), all zero": ((3, 4), (6,)),
}


# A clip that also scales gradients UP (max_norm / total without the min) or returns the norm after
# clipping fails this check AND the pipeline's (weight 5, which clips above and below the limit): half the part.
@pytest.mark.part("bptt")
@pytest.mark.parametrize("case", list(CLIP_CASES))
def test_clip_grad_norm(sub, case):
    """clip_grad_norm: every tensor scaled by the same min(1, max_norm / global norm); the norm
    before clipping returned as a float; the inputs untouched."""
    rng = rng_for(sub.seed, 700 + list(CLIP_CASES).index(case))
    shapes = CLIP_CASES[case]
    dtype = "float32" if case.startswith("float32") else "float64"
    # tensors of very different sizes: clipping each one by itself gives other numbers
    arrays = [rng.standard_normal(s) * (0.0 if "all zero" in case else f) for s, f in zip(shapes, (4.0, 0.3, 2.0))]
    specs = [spec(a, dtype, "transposed" if (dtype == "float32" and i == 0) else "contiguous")
             for i, a in enumerate(arrays)]
    values = [s["value"] for s in specs]
    total = math.sqrt(sum(float((a ** 2).sum()) for a in values))
    max_norm = 1.0 if total == 0 else total * 1.5 if "below" in case else total / 3.7
    check_clip(sub, case, specs, max_norm, values, total, dtype)


def hand_bptt(hs, w_hh, grad_hs):
    """The notebook's recurrence applied to given states (float64): delta_T = G_T,
    delta_t = G_t + ((1 - h_{t+1}^2) * delta_{t+1}) @ W_hh."""
    deltas = np.zeros_like(grad_hs)
    deltas[-1] = grad_hs[-1]
    for t in range(len(hs) - 2, -1, -1):
        deltas[t] = grad_hs[t] + ((1 - hs[t + 1] ** 2) * deltas[t + 1]) @ w_hh
    return deltas


@pytest.mark.part("bptt", weight=5)
def test_bptt_pipeline(sub):
    """The whole chain of the demo: rnn_forward (gradients flowing), bptt_hidden_grads on its
    states, per_step_norms of the result, clip_grad_norm of the per-step gradients."""
    T, B, I, H = 20, 3, 5, 7
    xs, h0, (w_ih, w_hh, b_ih, b_hh), G = unroll_inputs(720, T, B, I, H, 1.0, sub_seed=sub.seed)
    specs = [spec(a) for a in (xs, h0, w_ih, w_hh, b_ih, b_hh)]
    what = "rnn_forward -> backward through hs -> bptt_hidden_grads -> per_step_norms -> clip_grad_norm [T=20 B=3 I=5 H=7]"
    report = probe(sub, "chain", *specs, spec(G), what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    raw = [s["value"] for s in specs]
    if report["stand_in_calls"]:
        hs, grads = stand_in_unroll(*raw, grad_hs=G)
    else:
        hs, grads = tanh_unroll_grads(*raw, G)
    check_tensor(report["hs"], hs, f"{what}: hs of rnn_forward", F64, {}, "float64")
    if report["grad_error"]:
        fail(f"{what}: {report['grad_error']}")
    for name, expected in grads.items():
        got = report["grads"][name]
        if got is None:
            fail(f"{what}: no gradient reached {name} through rnn_forward (the graph was cut)")
        # float64 autograd of the same operations in another order: ~1e-14 relative; 1e-9 margin
        assert_close(got, expected, what=f"{what}: d L / d {name} through rnn_forward", **G64)
    deltas = hand_bptt(hs, w_hh, G)
    scale = np.abs(deltas).reshape(T, -1).max(axis=1)[:, None, None]
    got = readable_tensor(report["deltas"], f"{what}: deltas", "float64")
    if got.shape != deltas.shape:
        fail(f"{what}: deltas have shape {got.shape}, expected {deltas.shape}")
    # by-hand recurrence in float64 both sides: ~1e-15 relative to each step's scale (BPTT64_RTOL)
    assert_close(got / scale, deltas / scale, atol=BPTT64_RTOL, rtol=BPTT64_RTOL,
                 what=f"{what}: dL/dh_t of bptt_hidden_grads (each step divided by its largest |value|)")
    norms = np.sqrt((deltas ** 2).sum(axis=(1, 2)))
    check_tensor(report["norms"], norms, f"{what}: per_step_norms", dict(atol=0.0, rtol=1e-9), {})
    total = float(np.sqrt((deltas ** 2).sum()))
    if report["total"] is None:
        fail(f"{what}: clip_grad_norm's total_norm must be a Python float, got {report['total_kind']}")
    # a float64 norm of 420 numbers: ~1e-15 relative; the student may add 1e-6 to the divisor like
    # torch.nn.utils.clip_grad_norm_ (~1e-7 relative at these norms): 1e-5 covers both
    assert_close(np.array(report["total"]), np.array(total), atol=0.0, rtol=1e-5,
                 what=f"{what}: clip_grad_norm's total norm of the {T} per-step gradients")
    clipped = np.stack([np.asarray(c["value"]) if c["value"] is not None else np.full(deltas.shape[1:], np.nan)
                        for c in report["clipped"]]) if report["clipped"] else np.zeros(0)
    if clipped.shape != deltas.shape:
        fail(f"{what}: clip_grad_norm returned {len(report['clipped'])} tensors for {T} gradients")
    assert_close(clipped, deltas * min(1.0, (total / 4.0) / total), atol=1e-6 * total / 4.0, rtol=1e-5,
                 what=f"{what}: clip_grad_norm(list of the {T} per-step gradients, max_norm = total / 4)")
    expect(report["inputs_unchanged"], f"{what}: clip_grad_norm changed the gradients it was given in place")
    # the same gradients below the limit (max_norm = 4 * total): returned as they are, with the same norm
    below = f"{what}: clip_grad_norm(the same gradients, max_norm = 4 * total), below the limit"
    if report["kept_total"] is None:
        fail(f"{below}: total_norm must be a Python float")
    assert_close(np.array(report["kept_total"]), np.array(total), atol=0.0, rtol=1e-5, what=f"{below}: total norm")
    kept = np.stack([np.asarray(c["value"]) if c["value"] is not None else np.full(deltas.shape[1:], np.nan)
                     for c in report["kept"]]) if report["kept"] else np.zeros(0)
    if kept.shape != deltas.shape:
        fail(f"{below}: {len(report['kept'])} tensors for {T} gradients")
    # min(1, 4) = 1: nothing is scaled; 1e-5 as above (a 1e-6 in the divisor)
    assert_close(kept, deltas, atol=1e-6 * total, rtol=1e-5,
                 what=f"{below}: the clipped gradients (min(1, max_norm / total) = 1: unchanged)")
    # a step where no gradient reached: total 0 and nothing to scale (torch's clip_grad_norm_ does the
    # same); max_norm / total_norm in Python floats crashes a training loop on such a step
    zero = f"{what}: clip_grad_norm(all-zero gradients of the same shapes, max_norm = 1)"
    if report.get("zero_error"):
        fail(f"{zero} raised {report['zero_error']}: with total_norm = 0 nothing is scaled (min(1, max_norm / 0) = 1)")
    expect(report["zero_total"] == 0.0, f"{zero}: total_norm is {report['zero_total']}, expected 0.0")
    zeros = [readable_tensor(c, f"{zero}: clipped", "float64") for c in report["zero"]]
    expect(len(zeros) == T and all(np.array_equal(z, np.zeros(deltas.shape[1:])) for z in zeros),
           f"{zero}: the clipped gradients must be the zeros it was given")


def check_clip(sub, case, specs, max_norm, values, total, dtype):
    what = f"clip_grad_norm [{case}]"
    report = probe(sub, "clip", specs, max_norm, what=what)
    if report["error"]:
        fail(f"{what}: {report['error']}")
    if report["total"] is None:
        fail(f"{what}: total_norm must be a Python float, got {report['total_kind']}")
    # float64: ~1e-15 relative. float32 inputs: the student may sum squares in float32 (~1e-6 rel).
    # torch.nn.utils.clip_grad_norm_ divides by (total + 1e-6): ~1e-7 relative here. 1e-5 covers both.
    rtol = 1e-5
    assert_close(np.array(report["total"]), np.array(total), atol=0.0, rtol=rtol,
                 what=f"{what}: total_norm (the global norm before clipping)")
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    clipped = report["clipped"]
    expect(len(clipped) == len(values), f"{what}: {len(clipped)} clipped tensors for {len(values)} gradients")
    for i, (info, value) in enumerate(zip(clipped, values)):
        got = readable_tensor(info, f"{what}: clipped[{i}]", dtype)
        assert_close(got, value * scale, atol=1e-6 * max_norm, rtol=rtol, what=f"{what}: clipped[{i}]",
                     inputs=f"shapes {[tuple(np.shape(v)) for v in values]}, max_norm {max_norm:.4g}; "
                            "every tensor is scaled by the same factor min(1, max_norm / global norm)")
    expect(report["inputs_unchanged"], f"{what} changed the input gradients in place; return new tensors")
