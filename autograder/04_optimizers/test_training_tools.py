"""Hidden suite of 04_optimizers, parts lr_schedule, clip_grad_norm, grad_accumulation.

Expected values: the schedule from its formula in float64 (written here, independently of the
notebook), clipping from torch.nn.utils.clip_grad_norm_ in float64, accumulation from the n_k / N-weighted
micro-batch gradients of the same float64 torch model (with its batch-dependent stand-in layer).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def rng_for(sub, case):
    """Inputs differ per submission (sub.seed) and per case, and are the same on a regrade."""
    return np.random.default_rng([sub.seed, 4100 + case])


# =========================================================================== lr_schedule (2)
# The formula is evaluated in float64 on both sides; only the order of operations may differ
# (~1e-16 relative). 1e-12 absolute + 1e-9 relative is far below the smallest effect of a wrong
# boundary (one warmup step is base_lr / W >= 1e-5 here; a cosine shifted by one step moves the lr
# by >= 1e-7 relative at every cosine step).
SCHED_ATOL, SCHED_RTOL = 1e-12, 1e-9


def ref_lr(s, base, warmup, total, min_lr):
    if s < warmup:
        return base * s / warmup
    if s >= total:
        return min_lr
    progress = (s - warmup) / (total - warmup)
    return min_lr + (base - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def _region(s, warmup, total):
    if s < warmup:
        return "in the warmup (s < W)"
    if s == warmup:
        return "at s = W (must be exactly base_lr)"
    if s < total:
        return "in the cosine part (W <= s < T)"
    return "at or after T (must be min_lr)"


SCHEDULES = [
    # base_lr, warmup, total, min_lr (None: the default), last step checked
    (1.0, 2, 6, 0.0, 8),
    (3e-4, 7, 53, 3e-5, 60),
    (0.1, 0, 11, None, 14),
    (2.5e-3, 10, 11, 1e-4, 13),
    (1.0, 13, 101, 0.25, 110),
]


@pytest.mark.part("lr_schedule")
@pytest.mark.parametrize("base,warmup,total,min_lr,last", SCHEDULES,
                         ids=[f"W{w}-T{t}" for _, w, t, _, _ in SCHEDULES])
def test_warmup_cosine(sub, base, warmup, total, min_lr, last):
    """warmup_cosine_lr가 모든 step에서 맞는 Python float를 돌려준다"""
    # base_lr and min_lr scaled per submission (the same factor: min_lr stays below base_lr)
    factor = float(rng_for(sub, 20 + warmup).uniform(0.5, 2.0))
    base = base * factor
    min_lr = None if min_lr is None else min_lr * factor
    steps = list(range(last + 1))
    args = f"base_lr={base:g}, warmup_steps={warmup}, total_steps={total}" + \
        (f", min_lr={min_lr:g}" if min_lr is not None else " (min_lr left at its default 0)")
    try:
        got = sub.probe("schedule", steps, base, warmup, total, min_lr)
    except StudentError as exc:
        fail(f"warmup_cosine_lr(step, {args}): {exc}")
    if got["values"] is None:
        fail(f"warmup_cosine_lr({got['at']}, {args}) returned {got['bad']}, not a number")
    want = np.array([ref_lr(s, base, warmup, total, 0.0 if min_lr is None else min_lr) for s in steps])
    odd = [t for t in got["types"] if t not in ("builtins.float", "numpy.float64", "builtins.int")]
    expect(not odd, f"warmup_cosine_lr({args}) must return a Python float, got {odd[0] if odd else ''}")
    values = got["values"]
    bad = ~(np.abs(values - want) <= SCHED_ATOL + SCHED_RTOL * np.abs(want))
    if bad.any():
        s = int(np.argmax(bad))
        fail(f"warmup_cosine_lr(s, {args}) is wrong for {int(bad.sum())} of the steps s = 0..{last}; "
             f"the first is s = {s}, {_region(s, warmup, total)}: got {values[s]:.6g}")


# =========================================================================== clip_grad_norm (1)
# Student and torch compute the same float64 norms up to summation order (~1e-16 relative).
CLIP_ATOL, CLIP_RTOL = 1e-12, 1e-10


def _entries(rng, shapes, scale=1.0, none=(), strided=()):
    entries = []
    for i, shape in enumerate(shapes):
        grad = None if i in none else scale * rng.standard_normal(shape)
        entries.append({"shape": list(shape), "grad": grad, "strided": i in strided})
    return entries


def _reference_clip(entries, max_norm):
    params = []
    for e in entries:
        p = torch.zeros(tuple(e["shape"]), dtype=torch.float64, requires_grad=True)
        if e["grad"] is not None:
            p.grad = torch.tensor(e["grad"], dtype=torch.float64)
        params.append(p)
    total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
    return total, [None if p.grad is None else p.grad.numpy() for p in params]


def check_clip(sub, entries, max_norm, as_generator=False, what=""):
    shapes = [tuple(e["shape"]) for e in entries]
    where = (f"clip_grad_norm_({'a generator of ' if as_generator else ''}{len(entries)} parameters of shapes "
             f"{shapes}, max_norm={max_norm:g}){what}")
    try:
        got = sub.probe("clip", entries, max_norm, as_generator)
    except StudentError as exc:
        fail(f"{where}: {exc}")
    total, grads = _reference_clip(entries, max_norm)
    if isinstance(got["total"], str):
        fail(f"{where} returned {got['total']}, not the total norm")
    assert_close(got["total"], total, atol=CLIP_ATOL, rtol=CLIP_RTOL,
                 what=f"{where}: the returned total norm (before clipping)")
    for i, (g, w) in enumerate(zip(got["grads"], grads)):
        if w is None:
            expect(g is None, f"{where}: parameter {i} had no gradient and must keep grad None")
            continue
        if g is None or isinstance(g, str):
            fail(f"{where}: parameter {i} has grad {g!r} afterwards")
        assert_close(g, w, atol=CLIP_ATOL, rtol=CLIP_RTOL, what=f"{where}: grad of parameter {i} after clipping")


CLIP_CASES = ["large-global-norm", "each-small-global-large", "below-max-norm", "huge", "tiny"]


@pytest.mark.part("clip_grad_norm")
@pytest.mark.parametrize("case", CLIP_CASES)
def test_clip_values(sub, case):
    """clip_grad_norm_이 전체 norm을 돌려주고 gradient를 맞게 줄인다 (아주 크거나 작은 값 포함)"""
    # One check: the returned total norm and every clipped gradient, over all magnitudes
    rng = rng_for(sub, 1 + CLIP_CASES.index(case))
    if case == "large-global-norm":
        check_clip(sub, _entries(rng, [(7, 5), (3,), (2, 3, 4)], scale=10.0), 1.0)
    elif case == "each-small-global-large":
        # every tensor's own norm is below max_norm, their global norm is above it
        entries = _entries(rng, [(5, 3), (7,), (3, 3)])
        for e in entries:
            e["grad"] *= 0.8 / np.linalg.norm(e["grad"])
        check_clip(sub, entries, 1.0, what=" (each gradient has norm 0.8)")
    elif case == "below-max-norm":
        check_clip(sub, _entries(rng, [(4, 5), (5,)], scale=0.1), 5.0)
    else:
        scale, max_norm = (1e6, 0.5) if case == "huge" else (1e-8, 1.0)
        check_clip(sub, _entries(rng, [(9, 3), (3,)], scale=-scale), max_norm)


@pytest.mark.part("clip_grad_norm")
@pytest.mark.parametrize("as_generator", [True, False], ids=["generator", "list"])
def test_clip_none_strided_generator(sub, as_generator):
    """clip_grad_norm_이 generator, grad가 None인 파라미터, 연속적이지 않은 grad를 다룬다"""
    # One check: params may be a generator, grads may be None (skipped) or non-contiguous
    rng = rng_for(sub, 10 + as_generator)
    entries = _entries(rng, [(3, 5), (6,), (5, 1), (2, 7)], scale=3.0, none=(1,), strided=(0, 3))
    check_clip(sub, entries, 2.5, as_generator=as_generator, what=" (one grad None, non-contiguous grads)")


# =========================================================================== grad_accumulation (1)
# The model the probe hands over has a batch-dependent stand-in layer after the Tanh (h minus half
# the batch's mean, probes._HalfCenter), so the gradient depends on the route: the n_k / N-weighted
# sum of micro-batch gradients (the contract: micro-batches X[i:i + mbs] in order, each weighted
# before backward) differs from a full-batch backward by 10-100% relative in W1, b1, W2 (measured
# on the four cases below; b2's mse gradient does not depend on the route). The judge computes the
# micro-batch sum itself; student and judge differ by summation order only (float64, <= 23 samples):
# ~1e-15. A wrong weighting changes them by >= 1e-3 relative. The stand-in layer (an
# autograd.Function: model.forward cannot skip it) logs its forwards and backwards in one list, in
# the order they ran. The gradients catch a full-batch backward; the order catches what the
# gradients cannot: every micro-batch's graph kept alive and ONE backward over the weighted sum
# (the same gradients, a full batch's activation memory). The contract: micro-batch k's backward
# runs before micro-batch k + 1's forward, micro-batches in order. The log lives in the student's
# process (model[2].log): a cell that rewrites it after one backward over all graphs still passes.
ACC_ATOL, ACC_RTOL = 1e-10, 1e-8


def _mlp_weights(rng, d_in, d_hidden, d_out):
    return {"W1": rng.standard_normal((d_hidden, d_in)) / math.sqrt(d_in), "b1": 0.3 * rng.standard_normal(d_hidden),
            "W2": rng.standard_normal((d_out, d_hidden)) / math.sqrt(d_hidden), "b2": 0.3 * rng.standard_normal(d_out)}


def _micro_batches(n, mbs):
    return [(i, min(i + mbs, n)) for i in range(0, n, mbs)]


def _reference_grads(weights, X, Y, loss_kind, mbs):
    """Gradients and loss of the contract's route: sum_k n_k / N * L_k, one backward per micro-batch
    through Linear -> Tanh -> (h - mean_batch(h) / 2) -> Linear, written here with plain torch ops."""
    params = [torch.tensor(weights[n], dtype=torch.float64, requires_grad=True) for n in PARAM_NAMES]
    W1, b1, W2, b2 = params
    n = len(X)
    total = 0.0
    for lo, hi in _micro_batches(n, mbs):
        h = torch.tanh(torch.tensor(X[lo:hi]) @ W1.T + b1)
        out = (h - 0.5 * h.mean(0, keepdim=True)) @ W2.T + b2
        if loss_kind == "mse":
            loss = torch.nn.functional.mse_loss(out, torch.tensor(Y[lo:hi]))
        else:
            loss = torch.nn.functional.cross_entropy(out, torch.tensor(Y[lo:hi], dtype=torch.int64))
        loss = loss * ((hi - lo) / n)
        loss.backward()
        total += loss.item()
    return total, [p.grad.numpy() for p in params]


def _contract_events(want_sizes):
    """The stand-in layer's log under the contract: forward then backward, micro-batch by micro-batch."""
    return [[kind, k] for k in want_sizes for kind in ("forward", "backward")]


def _events_text(events, limit=12):
    text = ", ".join(f"{'F' if kind == 'forward' else 'B' if kind == 'backward' else kind}{k}"
                     for kind, k in events[:limit])
    return text + (f", ... ({len(events)} in all)" if len(events) > limit else "") if events else "none"


def check_accumulation(sub, seed, n, dims, loss_kind, mbs, stale=False, strided_x=False):
    rng = rng_for(sub, 10 + seed)
    d_in, d_hidden, d_out = dims
    weights = _mlp_weights(rng, d_in, d_hidden, d_out)
    X = rng.standard_normal((n, d_in)) * 1.5
    Y = rng.standard_normal((n, d_out)) if loss_kind == "mse" else rng.integers(0, d_out, n)
    want_sizes = [hi - lo for lo, hi in _micro_batches(n, mbs)]
    sizes_text = ", ".join(str(k) for k in want_sizes)
    where = (f"accumulate_gradients on Linear({d_in}, {d_hidden}) -> Tanh -> (h - batch mean / 2) -> "
             f"Linear({d_hidden}, {d_out}), "
             f"{'mse_loss' if loss_kind == 'mse' else 'cross_entropy'}, N = {n}, micro_batch_size = {mbs} "
             f"(micro-batches of {sizes_text})"
             + (", with gradients left over from an earlier step" if stale else "")
             + (", X non-contiguous" if strided_x else ""))
    try:
        got = sub.probe("accumulate", weights, X, Y, loss_kind, mbs, stale, strided_x)
    except StudentError as exc:
        fail(f"{where}: {exc}")
    loss, grads = _reference_grads(weights, X, Y, loss_kind, mbs)
    events = got["events"]
    sizes = [k for kind, k in events if kind == "forward"]
    backward_sizes = [k for kind, k in events if kind == "backward"]
    expect(len(sizes) > 0, f"{where}: the model was never called")
    expect(max(sizes) <= mbs, f"{where}: the model was called on {max(sizes)} samples at once")
    expect(sum(sizes) == n, f"{where}: the model saw {sum(sizes)} samples in all, the batch has {n}")
    # the engine's own log: gradients must flow back through each micro-batch once
    expect(sorted(backward_sizes) == sorted(want_sizes),
           f"{where}: backward() went through the model on batches of {backward_sizes or 'none'}, "
           f"expected one backward per micro-batch ({sizes_text})")
    # ... and each before the next micro-batch's forward (F = forward, B = backward, then the size)
    want_events = _contract_events(want_sizes)
    expect(events == want_events,
           f"{where}: the model ran {_events_text(events)}; accumulation runs each micro-batch's "
           f"backward() before the next micro-batch's forward ({_events_text(want_events)}): "
           f"keeping every micro-batch's graph for one backward needs a full batch's memory")
    for name, g, w in zip(PARAM_NAMES, got["grads"], grads):
        if g is None or isinstance(g, str):
            fail(f"{where}: {name}.grad is {g!r} afterwards")
        assert_close(g, w, atol=ACC_ATOL, rtol=ACC_RTOL,
                     what=f"{where}: {name}.grad (vs the n_k / N-weighted sum of the micro-batch gradients)")
    if isinstance(got["loss"], str):
        fail(f"{where}: returned {got['loss']}, not the loss")
    # the notebook asks for a Python float (loss.item()), not a tensor that keeps the graph alive
    expect(got["loss_type"] in ("builtins.float", "numpy.float64"),
           f"{where}: must return the loss as a Python float, got {got['loss_type']}")
    expect(unchanged(got["x_after"], X), f"{where}: X was modified in place")
    assert_close(got["loss"], loss, atol=ACC_ATOL, rtol=ACC_RTOL,
                 what=f"{where}: the returned loss (sum of n_k / N * micro-batch loss)")


@pytest.mark.part("grad_accumulation", weight=2)
def test_accumulation_unequal_micro_batches_mse(sub):
    """크기가 다른 micro-batch로 누적한 gradient가 full-batch gradient와 같다"""
    # In a training loop every call finds the previous step's gradients in p.grad: the main
    # checks start from them too, so forgetting to clear them costs more than one small check.
    check_accumulation(sub, 1, 23, (4, 7, 3), "mse", 5, stale=True)


@pytest.mark.part("grad_accumulation")
def test_accumulation_cross_entropy(sub):
    """cross_entropy에서도 누적한 gradient와 loss가 full-batch와 같다"""
    check_accumulation(sub, 2, 17, (3, 6, 5), "ce", 4, stale=True)


@pytest.mark.part("grad_accumulation")
@pytest.mark.parametrize("mbs", [1, 30], ids=["one-sample", "one-micro-batch"])
def test_accumulation_extremes(sub, mbs):
    """micro-batch 크기 1과 전체 크기에서도 맞다"""
    check_accumulation(sub, 3, 9, (5, 4, 2), "mse", mbs)


@pytest.mark.part("grad_accumulation")
def test_accumulation_clears_old_gradients(sub):
    """이전 step의 gradient를 지우고 시작한다"""
    check_accumulation(sub, 4, 14, (3, 5, 2), "mse", 6, stale=True, strided_x=True)
