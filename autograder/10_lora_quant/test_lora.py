"""Hidden suite of 10_lora_quant, part lora (5 points): LoRALinear.

Every layer wraps an nn.Linear whose W (and b) the judge chooses, with odd sizes (d_in=37,
d_out=23, r=3, ...), float32 and float64, with and without bias. Inputs x are 3-D, contiguous, a
transposed view or every other row of a taller tensor. Forward, gradients and merge / unmerge are
checked with a NON-ZERO B (set by the probe after construction): with B = 0 a wrong scaling, a
merge that forgets the scaling or a forward that adds the branch twice would all look right.
Upstream gradients are random. Expected values: torch float64 in this process, from the exact
values the student's layer holds (float32 inputs are drawn in float64 and rounded here).
Values are drawn from the submission's seed (`sub.seed`) and the case's number.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

pytestmark = pytest.mark.part("lora")

# --------------------------------------------------------------------------- tolerances
# float64: student and reference differ only in the order of operations (x A^T B^T vs x (BA)^T,
# scaling before or after); for the O(10) values here that is ~1e-14. 1e-9 leaves a wide margin
# and is far below any real mistake (O(1e-1) and up).
F64 = dict(atol=1e-9, rtol=1e-9)
# float32: the curriculum's atol 1e-4 for merge / unmerge. Measured errors of correct float32
# layers against float64 here: <= 4e-6 (forward, merged forward, restored W); the mistakes this
# part is about change values by O(0.1) or more.
F32 = dict(atol=1e-4, rtol=1e-5)


def tol(dtype):
    return F64 if dtype == "float64" else F32


# --------------------------------------------------------------------------- inputs
def as_dtype(a, dtype):
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


_SEED = [0]     # the submission's seed while seeded() builds the case table
_TABLES = {}


def seeded(sub):
    """The case table for this submission's seed (built once per judge and seed)."""
    if sub.seed not in _TABLES:
        _SEED[0] = sub.seed
        _TABLES[sub.seed] = _cases()
    return _TABLES[sub.seed]


def make_case(seed, in_f, out_f, r, alpha, dtype, x_shape, layout="contiguous", bias=True):
    rng = np.random.default_rng([_SEED[0], seed])
    cfg = {
        "in_f": in_f, "out_f": out_f, "r": r, "alpha": alpha, "dtype": dtype, "seed": seed,
        "W": as_dtype(rng.standard_normal((out_f, in_f)) / math.sqrt(in_f), dtype),
        "b": as_dtype(rng.standard_normal(out_f) * 0.5, dtype) if bias else None,
        "A": as_dtype(rng.standard_normal((r, in_f)) / math.sqrt(in_f), dtype),
        "B": as_dtype(rng.standard_normal((out_f, r)), dtype),          # non-zero on purpose
    }
    x = {"value": as_dtype(rng.standard_normal(x_shape) * 2.0, dtype), "shape": list(x_shape),
         "dtype": dtype, "layout": layout}
    g = as_dtype(rng.standard_normal(tuple(x_shape[:-1]) + (out_f,)), dtype)
    return cfg, x, g


LAYOUT_WORDS = {"contiguous": "", "transposed": ", a transposed view (non-contiguous)",
                "strided": ", every other row of a taller tensor (non-contiguous)"}

# alpha / r differs from alpha, r / alpha and 1 in every case but the r = 1 one (kept for the rank-1
# edge), so a wrong scaling shows in the other three, which every check below includes.
def _cases():
    return {
        "float32_37to23_r3_alpha5_3d_x": make_case(1001, 37, 23, 3, 5, "float32", (2, 5, 37)),
        "float64_11to7_r1_alpha3_no_bias": make_case(1002, 11, 7, 1, 3.0, "float64", (4, 11), bias=False),
        "float32_transposed_x": make_case(1003, 9, 13, 4, 6, "float32", (3, 7, 9), layout="transposed"),
        "float64_strided_x": make_case(1004, 8, 5, 2, 7, "float64", (6, 3, 8), layout="strided"),
    }


CASES = _cases()    # sizes and names only (descriptions); values come from seeded(sub)


def describe(name):
    cfg, x, _ = CASES[name]
    bias = "" if cfg["b"] is not None else ", bias=False"
    return (f"LoRALinear(nn.Linear({cfg['in_f']}, {cfg['out_f']}{bias}, dtype={cfg['dtype']}), "
            f"r={cfg['r']}, alpha={cfg['alpha']}) on x {cfg['dtype']} {tuple(x['shape'])}"
            f"{LAYOUT_WORDS[x['layout']]}")


# --------------------------------------------------------------------------- float64 references
def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def ref_forward(cfg, x, A=None, B=None):
    W, b = t64(cfg["W"]), (None if cfg["b"] is None else t64(cfg["b"]))
    A = t64(cfg["A"]) if A is None else A
    B = t64(cfg["B"]) if B is None else B
    s = cfg["alpha"] / cfg["r"]
    y = x @ W.T + s * (x @ A.T) @ B.T
    return y if b is None else y + b


def ref_delta(cfg):
    return (cfg["alpha"] / cfg["r"]) * (t64(cfg["B"]) @ t64(cfg["A"]))


# --------------------------------------------------------------------------- helpers
def probe(sub, name, *args, what):
    try:
        return sub.probe(name, *args)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def tensor_of(info, what):
    if info is None:
        fail(f"{what}: missing (None)")
    if info["kind"] != "torch":
        fail(f"{what} must be a torch.Tensor, got {info['kind']}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    return np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])


def check(info, expected, what, dtype, inputs):
    got = tensor_of(info, what)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        fail(f"{what}: shape {got.shape} but expected {expected.shape}; {inputs}")
    assert_close(got, expected, what=what, **tol(dtype))


def check_fresh(rep, cfg, x, what):
    """A layer as constructed (B = 0) equals its base layer, whatever A is."""
    W, b = t64(cfg["W"]), (0.0 if cfg["b"] is None else t64(cfg["b"]))
    check(rep["y_fresh"], (t64(x["value"]) @ W.T + b).numpy(),
          f"{what}: output of the layer as constructed (lora_B = 0, so it must equal base(x))", cfg["dtype"], what)


def untouched(after, s) -> bool:
    """The input built from spec s, as describe() read it after the call, still holds s's values
    (decided here: in the sandbox torch.equal / clone may be patched)."""
    return unchanged(after, np.asarray(s["value"]).reshape(s["shape"]))


def frozen_leaf(info) -> bool:
    """A tensor as the probe's describe() read it is a leaf that does not require grad (a leaf:
    no grad_fn), decided here: in the sandbox requires_grad / is_leaf may be patched."""
    return info["kind"] == "torch" and info["requires_grad"] is False and info["grad_fn"] is None


def check_frozen(rep, what):
    trainable_base = [n for n, flag in rep["base_requires_grad"].items() if flag]
    expect(not trainable_base, f"{what}: base.{', base.'.join(trainable_base)} still requires grad; "
                               "LoRA freezes every parameter of the base layer")
    expect(rep["trainable"] == ["lora_A", "lora_B"],
           f"{what}: the trainable parameters (requires_grad=True) must be exactly ['lora_A', 'lora_B'], "
           f"got {rep['trainable']}")
    if "base_grads" in rep:
        with_grad = [n for n, has in rep["base_grads"].items() if has]
        expect(not with_grad, f"{what}: after backward, base.{', base.'.join(with_grad)} received a gradient; "
                              "the base layer must be frozen")


# =========================================================================== init
INIT_CASES = ["float32_37to23_r3_alpha5_3d_x", "float64_11to7_r1_alpha3_no_bias"]


@pytest.mark.parametrize("case", INIT_CASES)
def test_lora_init(sub, case):
    """LoRA 초기화: B = 0, A ~ N(0, 1/d_in), scaling = alpha / r, merged = False

    Shapes, dtypes, B = 0, A random, scaling = alpha / r, merged = False, output = base(x)."""
    cfg, x, _ = seeded(sub)[case]
    what = describe(case)
    rep = probe(sub, "lora_init", cfg, x, what=what)
    r, in_f, out_f, dtype = cfg["r"], cfg["in_f"], cfg["out_f"], cfg["dtype"]
    expect(rep["base_is_same"], f"{what}: self.base must be the nn.Linear that was passed in (not a copy)")
    for key, shape in (("A", (r, in_f)), ("B", (out_f, r))):
        name = f"lora_{key}"
        expect(rep[key]["type"] == "torch.nn.parameter.Parameter", f"{what}: {name} must be an nn.Parameter, got {rep[key]['type']}")
        value = tensor_of(rep[key], f"{what}: {name}")
        expect(value.shape == shape, f"{what}: {name} has shape {value.shape}, expected {shape} "
                                     f"(A: (r, in_features), B: (out_features, r))")
        expect(rep[key]["dtype"] == dtype, f"{what}: {name} has dtype {rep[key]['dtype']}; "
                                           f"make it in base.weight's dtype {dtype}")
    A, B = tensor_of(rep["A"], "lora_A"), tensor_of(rep["B"], "lora_B")
    expect(np.all(B == 0), f"{what}: lora_B must start at exactly 0 (so the layer starts equal to its base); "
                           f"{int(np.count_nonzero(B))} of {B.size} entries are non-zero")
    # The notebook asks for N(0, 1/d_in) (std 1/sqrt(d_in)); peft's kaiming_uniform(a=sqrt(5)) gives
    # std 0.58/sqrt(d_in). The band [0.25, 4] / sqrt(d_in) accepts both with a wide margin even for
    # the 11 draws of r=1, d_in=11, and rejects an all-zero or constant A (std 0).
    std = float(A.std())
    expect(np.all(np.isfinite(A)) and 0.25 / math.sqrt(in_f) <= std <= 4.0 / math.sqrt(in_f),
           f"{what}: lora_A should hold N(0, 1/in_features) values (std about {1 / math.sqrt(in_f):.3f}), "
           f"its std is {std:.3g}")
    scaling = rep["scaling"]
    expect(isinstance(scaling, float), f"{what}: self.scaling must be a number, got {scaling}")
    expect(math.isclose(scaling, cfg["alpha"] / r, rel_tol=1e-12),
           f"{what}: scaling = {scaling:g}; LoRA scales the update by alpha / r")
    expect(rep["merged"] is False, f"{what}: a new layer must have merged = False, got {rep['merged']}")
    # B = 0: the output equals the base layer's, whatever A is
    W, b = t64(cfg["W"]), (0.0 if cfg["b"] is None else t64(cfg["b"]))
    expected = (t64(x["value"]) @ W.T + b).numpy()
    check(rep["y"], expected, f"{what}: output of a new layer (B = 0, so it equals base(x))", dtype, what)


# =========================================================================== frozen base
def test_lora_frozen_base(sub):
    """LoRA: base 층은 얼어 있고 lora_A, lora_B만 학습됨

    base.weight / base.bias frozen, only lora_A and lora_B trainable, no grads reach the base."""
    case = "float32_37to23_r3_alpha5_3d_x"
    cfg, x, g = seeded(sub)[case]
    what = describe(case)
    rep = probe(sub, "lora_init", cfg, x, what=what)
    trainable_base = [n for n, flag in rep["base_requires_grad"].items() if flag]
    expect(not trainable_base, f"{what}: base.{', base.'.join(trainable_base)} still requires grad; "
                               "LoRA freezes every parameter of the base layer")
    expect(rep["trainable"] == ["lora_A", "lora_B"],
           f"{what}: the trainable parameters (requires_grad=True) must be exactly ['lora_A', 'lora_B'], "
           f"got {rep['trainable']}")
    rep = probe(sub, "lora_forward", cfg, x, g, what=what)
    expect(rep["backward"], f"{what}: the output does not require grad; keep lora_A / lora_B in the graph")
    with_grad = [n for n, has in rep["base_grads"].items() if has]
    expect(not with_grad, f"{what}: after backward, base.{', base.'.join(with_grad)} received a gradient; "
                          "the base layer must be frozen")


# =========================================================================== forward with B != 0
@pytest.mark.parametrize("case", list(CASES))
def test_lora_forward(sub, case):
    """LoRA forward (B가 0이 아닐 때): W0 x + b + (alpha/r) B A x"""
    cfg, x, g = seeded(sub)[case]
    what = describe(case) + ", A and B set to non-zero values"
    rep = probe(sub, "lora_forward", cfg, x, g, what=what)
    check_fresh(rep, cfg, x, what)
    check_frozen(rep, what)
    expect(not rep["y"]["aliases"], f"{what}: the output shares memory with x")
    expected = ref_forward(cfg, t64(x["value"])).numpy()
    check(rep["y"], expected, f"{what}: output", cfg["dtype"], what)
    expect(rep["y"]["dtype"] == cfg["dtype"], f"{what}: output dtype {rep['y']['dtype']}, expected {cfg['dtype']}")
    expect(untouched(rep["x_after"], x), f"{what}: forward changed its input x in place")


# =========================================================================== gradients
@pytest.mark.parametrize("case", ["float64_11to7_r1_alpha3_no_bias", "float64_strided_x"])
def test_lora_gradients(sub, case):
    """LoRA: A, B, x의 gradient (무작위 upstream gradient)

    dL/dA, dL/dB and dL/dx for L = sum(G * y) with a random upstream gradient G."""
    cfg, x, g = seeded(sub)[case]
    what = describe(case) + ", A and B non-zero, random upstream gradient"
    rep = probe(sub, "lora_forward", cfg, x, g, what=what)
    check_fresh(rep, cfg, x, what)
    expect(rep["backward"], f"{what}: the output does not require grad; do not detach the LoRA branch")
    check_frozen(rep, what)
    xs = t64(x["value"]).requires_grad_(True)
    A, B = t64(cfg["A"]).requires_grad_(True), t64(cfg["B"]).requires_grad_(True)
    y = ref_forward(cfg, xs, A, B)
    y.backward(t64(g))
    for key, ref in (("grad_A", A), ("grad_B", B), ("grad_x", xs)):
        if rep[key] is None:
            fail(f"{what}: {key[5:]} received no gradient")
        check(rep[key], ref.grad.numpy(), f"{what}: gradient of {key[5:]}", cfg["dtype"], what)


# =========================================================================== merge / unmerge
MERGE_CASES = ["float32_37to23_r3_alpha5_3d_x", "float64_strided_x", "float32_transposed_x"]


# merge / unmerge weigh 2 each: the curriculum's core of this part (equal outputs with B != 0)
@pytest.mark.part("lora", weight=2)
@pytest.mark.parametrize("case", MERGE_CASES)
def test_lora_merge(sub, case):
    """merge(): base.weight = W0 + (alpha/r) BA, 출력 그대로, 두 번째 merge는 아무것도 안 함

    merge() with B != 0: W0 + (alpha/r) B A in base.weight, same output, still frozen, idempotent."""
    cfg, x, _ = seeded(sub)[case]
    what = describe(case) + ", B non-zero"
    rep = probe(sub, "lora_merge", cfg, x, what=what)
    dtype = cfg["dtype"]
    check_fresh(rep, cfg, x, what)
    y = ref_forward(cfg, t64(x["value"])).numpy()
    check(rep["y_before"], y, f"{what}: output before merge()", dtype, what)
    expect(rep["merged_after_merge"] is True, f"{what}: after merge(), merged must be True, got {rep['merged_after_merge']}")
    merged_W = (t64(cfg["W"]) + ref_delta(cfg)).numpy()
    check(rep["W_merged"], merged_W, f"{what}: base.weight after merge() (W0 + (alpha/r) B A)", dtype, what)
    expect(frozen_leaf(rep["W_merged"]),
           f"{what}: after merge() base.weight must stay a frozen leaf (requires_grad=False); "
           "change it under torch.no_grad()")
    check(rep["y_merged"], y, f"{what}: output after merge() (must equal the output before merge)", dtype, what)
    check(rep["W_merged_twice"], merged_W, f"{what}: base.weight after a second merge() (it must do nothing)",
          dtype, what)


@pytest.mark.part("lora", weight=2)
@pytest.mark.parametrize("case", MERGE_CASES[:2])
def test_lora_unmerge(sub, case):
    """merge() 두 번 뒤 unmerge(): W0와 원래 출력으로 돌아옴

    merge(); merge(); unmerge() gives W0 back and the unmerged output."""
    cfg, x, _ = seeded(sub)[case]
    what = describe(case) + ", B non-zero, merge() twice then unmerge()"
    rep = probe(sub, "lora_merge", cfg, x, what=what)
    dtype = cfg["dtype"]
    check_fresh(rep, cfg, x, what)
    merged_W = (t64(cfg["W"]) + ref_delta(cfg)).numpy()
    check(rep["W_merged"], merged_W, f"{what}: base.weight after merge() (W0 + (alpha/r) B A)", dtype, what)
    check(rep["W_merged_twice"], merged_W, f"{what}: base.weight after a second merge() (it must do nothing)",
          dtype, what)
    expect(frozen_leaf(rep["W_merged"]),
           f"{what}: after merge() base.weight must stay a frozen leaf (requires_grad=False); "
           "change it under torch.no_grad()")
    check(rep["y_merged"], ref_forward(cfg, t64(x["value"])).numpy(),
          f"{what}: output after merge() (must equal the output before merge)", dtype, what)
    expect(rep["merged_after_unmerge"] is False,
           f"{what}: after unmerge(), merged must be False, got {rep['merged_after_unmerge']}")
    check(rep["W_unmerged"], np.asarray(cfg["W"]), f"{what}: base.weight after unmerge() (must be W0 again)",
          dtype, what)
    y = ref_forward(cfg, t64(x["value"])).numpy()
    check(rep["y_unmerged"], y, f"{what}: output after unmerge()", dtype, what)


@pytest.mark.part("lora", weight=2)
@pytest.mark.parametrize("case", MERGE_CASES[:2])
def test_lora_unmerge_when_not_merged(sub, case):
    """merge하지 않은 층의 unmerge()는 아무것도 하지 않음

    The docstring's branch: unmerge() on a layer that was never merged does nothing."""
    cfg, x, _ = seeded(sub)[case]
    what = describe(case) + ", B non-zero, unmerge() without merge()"
    rep = probe(sub, "lora_unmerge_unmerged", cfg, x, what=what)
    dtype = cfg["dtype"]
    expect(rep["merged"] is False, f"{what}: merged must stay False, got {rep['merged']}")
    check(rep["W"], np.asarray(cfg["W"]), f"{what}: base.weight (unmerge() must do nothing when not merged)", dtype, what)
    check(rep["y"], ref_forward(cfg, t64(x["value"])).numpy(), f"{what}: output after the unmerge()", dtype, what)
    check(rep["W_merged"], (t64(cfg["W"]) + ref_delta(cfg)).numpy(),
          f"{what}: base.weight after merge() following that unmerge() (W0 + (alpha/r) B A)", dtype, what)
    check(rep["y_merged"], ref_forward(cfg, t64(x["value"])).numpy(), f"{what}: output after that merge()", dtype, what)
    expect(frozen_leaf(rep["W_merged"]), f"{what}: after merge() base.weight must stay a frozen leaf (requires_grad=False); "
                                 "change it under torch.no_grad()")
