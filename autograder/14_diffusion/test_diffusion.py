"""Hidden suite of 14_diffusion.

Parts: forward_process (3), ddpm_loss (2), ddim (3), cfg (2).

Conventions (the notebook's): steps are 0-indexed, t = 0..T-1; betas[i] is the paper's beta_{i+1};
alpha_bar = cumprod(1 - betas), so alpha_bar[0] = 1 - betas[0]; the last sampling step goes to
alpha_bar_prev = 1. Cosine schedule: Nichol & Dhariwal with s = 0.008 and betas clipped at 0.999.
CFG: eps_uncond + w * (eps_cond - eps_uncond) (w = 1 is plain conditional).

Every input is a seeded NumPy array with odd sizes (batch 7, 5x5 images, 3 channels, T = 37, ...);
the probe builds torch tensors from it in the dtype and memory layout named here (contiguous, a
channels-last image batch seen as (B, C, H, W), a transposed view, every other row of a taller
tensor). float32 inputs are drawn in float64 and rounded to float32 here, so the float64
references below see exactly the values the student got.

Expected values come from the float64 references in this file (NumPy, or torch float64 where a
gradient is needed). When a result is wrong, the test also checks it against the known mistakes
(alpha instead of alpha_bar, sqrt missing, 1-indexed t, cosine without the offset s or without
clipping, a model fed x0, eta = 0 adding noise, the guidance sign, ...) and names the one that
matches: a hint about the kind of mistake, never the expected values.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# --------------------------------------------------------------------------- tolerances
# Schedules: closed-form float64 formulas; correct implementations differ only in the order of
# operations (torch vs math cos, f / f[0] before or after the ratio): ~1e-16 relative, ~1e-13 for the
# last cosine betas (ratios of f values ~1e-6 whose cos argument is near pi/2). rtol 1e-9 leaves
# four orders of margin; the mistakes move betas by >= 2e-6 (s missing: betas[0] 4.1e-5 -> 2.5e-6;
# no clipping: 0.999 -> 1.0). A float32 computation misses by ~1e-4 near the end and is told so.
SCHEDULE = dict(atol=1e-12, rtol=1e-9)
# float64 tensors (q_sample, cfg), values up to ~1e3: a different order of operations gives ~1e-15
# relative; 1e-9 is far below any mistake (>= 1e-3 relative).
F64 = dict(atol=1e-9, rtol=1e-9)
# q_sample on float64 inputs: the notebook does not ask for float64 arithmetic here, and alpha_bar
# taken as a float32 cumprod is a correct solution: after 1000 factors its relative error reaches
# ~1e-4 where alpha_bar ~ 4e-5 (t = 999), i.e. ~2e-6 absolute on sqrt(alpha_bar) * x0 (measured).
# atol 1e-5 / rtol 1e-5 accepts it; the mistakes move some value of every case by >= 1e-3 (at
# t = 0 a one-step shift changes x_t by ~1e-2 through sqrt(1 - alpha_bar)).
Q64 = dict(atol=1e-5, rtol=1e-5)
# float32 inputs of O(1): the result is float32 (rounding 6e-8 relative) and the student may compute
# in float32 throughout (a few roundings more): measured <= 5e-7 for O(3) values. 1e-5 gives 20x
# margin; the mistakes change values by >= 1e-2.
F32 = dict(atol=1e-5, rtol=1e-5)
# The loss and its parameter gradients: float64 sums of ~100 squared O(1) terms: ~1e-15 relative.
LOSS = dict(atol=1e-10, rtol=1e-9)
# DDIM steps and loops: alpha_bar_t / alpha_bar_prev arrive as Python floats, and a common correct
# solution wraps them with torch.tensor(float), which is float32: alpha_bar rounded by up to 6e-8
# relative moves x0_hat and x_prev by ~1e-7 relative (measured 1.3e-7 for one step; the loops, whose
# first step from alpha_bar[999] ~ 2.4e-9 divides by sqrt(alpha_bar) ~ 5e-5, stay below 1e-7).
# 1e-6 accepts that with margin; the mistakes (noise at eta = 0, a missing last step, a wrong sigma)
# change x_prev by >= 1e-2.
DDIM = dict(atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------- inputs
def rng_for(seed, case):
    """Inputs differ per submission (sub.seed, drawn from the student's code) and per case, and
    stay the same for the same notebook, so a regrade agrees and a copied answer table does not."""
    return np.random.default_rng([seed, case])


def as_dtype(a, dtype):
    a = np.asarray(a, dtype=np.float64)
    return a.astype(np.float32).astype(np.float64) if dtype == "float32" else a


def spec(value, dtype="float64", layout="contiguous"):
    return {"value": np.asarray(value), "dtype": dtype, "layout": layout}


def ispec(value, layout="contiguous"):
    return {"value": np.asarray(value, dtype=np.int64), "dtype": "int64", "layout": layout}


LAYOUT_WORDS = {"contiguous": "", "channels_last": ", channels-last storage (non-contiguous)",
                "transposed": ", a transposed view (non-contiguous)",
                "strided": ", every other row of a longer tensor (non-contiguous)"}


def describe(s):
    if s is None:
        return "None"
    return f"{s['dtype']} {tuple(np.shape(s['value']))}{LAYOUT_WORDS[s['layout']]}"


def joined(inputs):
    return "; ".join(f"{k}: {v}" for k, v in inputs.items())


# --------------------------------------------------------------------------- references (float64)
def ref_linear(T, beta_start=1e-4, beta_end=0.02):
    return np.linspace(beta_start, beta_end, T)


def ref_cosine(T, s=0.008, max_beta=0.999):
    tau = np.arange(T + 1, dtype=np.float64) / T
    f = np.cos((tau + s) / (1 + s) * np.pi / 2) ** 2
    ab = f / f[0]
    return np.minimum(1.0 - ab[1:] / ab[:-1], max_beta)


def bcast(v, ndim):
    return np.asarray(v).reshape(-1, *([1] * (ndim - 1)))


def ref_q_sample(x0, t, noise, betas, variant="correct"):
    ab_all = np.cumprod(1.0 - betas)
    if variant == "alpha":                        # one step's alpha_t instead of the product
        a = 1.0 - betas[t]
    elif variant == "one_indexed":                # alpha_bar with a leading 1: alpha_bar[t] = prod_{s<t}
        a = np.concatenate([[1.0], ab_all])[t]
    elif variant == "t_minus_1":                  # alpha_bar[t - 1] (t = 0 wraps to the last step)
        a = ab_all[t - 1]
    else:
        a = ab_all[t]
    a = bcast(a, x0.ndim)
    if variant == "no_sqrt":
        return a * x0 + (1.0 - a) * noise
    return np.sqrt(a) * x0 + np.sqrt(1.0 - a) * noise


def ref_ddim_step(x, eps, ab_t, ab_prev, eta=0.0, noise=None, variant="correct"):
    x0_hat = (x - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
    sigma = math.sqrt((1 - ab_prev) / (1 - ab_t)) * math.sqrt(1 - ab_t / ab_prev)
    if variant == "correct":
        sigma *= eta
    out = math.sqrt(ab_prev) * x0_hat + math.sqrt(max(1 - ab_prev - sigma ** 2, 0.0)) * eps
    if noise is not None and sigma > 0:
        out = out + sigma * noise
    return out


def t64(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def toy_hidden(params, x, t, t_scale):
    """The probes' toy model, in torch float64 (same formula as probes._ToyEps)."""
    B = x.shape[0]
    return (x.reshape(B, -1) @ params["W1"] + params["b1"]
            + (t.to(torch.float64) / t_scale)[:, None] * params["wt"])


def toy_eps(params, x, t, t_scale):
    return (torch.tanh(toy_hidden(params, x, t, t_scale)) @ params["W2"]).reshape(x.shape)


def toy_cond_eps(params, x, t, y, t_scale):
    h = toy_hidden(params, x, t, t_scale) + params["E"][y]
    return (torch.tanh(h) @ params["W2"]).reshape(x.shape)


def toy_params(rng, d, hidden, n_labels=None):
    p = {"W1": rng.standard_normal((d, hidden)) / math.sqrt(d), "b1": 0.3 * rng.standard_normal(hidden),
         "wt": rng.standard_normal(hidden), "W2": rng.standard_normal((hidden, d)) / math.sqrt(hidden)}
    if n_labels is not None:
        p["E"] = rng.standard_normal((n_labels, hidden))
    return p


# --------------------------------------------------------------------------- checks
def probe(sub, name, *args, what, **kwargs):
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


def untouched(report, **sent) -> bool:
    """Whether every input still holds what the judge sent, decided here from what the probe read
    back after the call with describe() (in the sandbox torch.equal or clone may be patched)."""
    after = report.get("inputs_after") or {}
    sent = {name: s for name, s in sent.items() if s is not None}
    return set(after) == set(sent) and all(
        unchanged(after[name], s["value"] if isinstance(s, dict) else s) for name, s in sent.items())


def tensor_value(info, what, shape=None):
    if info["kind"] != "torch":
        hint = " (a NumPy array: keep the result a torch tensor)" if info["kind"].startswith("numpy") else ""
        fail(f"{what} must return a torch.Tensor, got {info['kind']}{hint}")
    if info["value"] is None:
        fail(f"{what}: a torch.Tensor of dtype {info['dtype']} that holds no real numbers")
    got = np.asarray(info["value"], dtype=np.float64).reshape(info["shape"])
    if shape is not None and got.shape != tuple(shape):
        fail(f"{what}: shape {got.shape} but expected {tuple(shape)}")
    return got


def close(got, want, tol):
    if got.shape != want.shape:
        return False
    return bool(np.all(np.abs(got - want) <= tol["atol"] + tol["rtol"] * np.abs(want)))


# "Right formula, float32 arithmetic": within this of the float64 reference but outside the tolerance.
FLOAT32_LIKE = dict(atol=1e-7, rtol=1e-5)


def check(got, expected, what, tol, inputs, hints=(), float32_hint=None):
    """assert_close, preceded by a named hint when the result matches a known mistake."""
    if not close(got, expected, tol):
        for variant_value, hint in hints:
            if variant_value is not None and close(got, np.asarray(variant_value, dtype=np.float64), tol):
                fail(f"{what}: wrong values; {hint}. {joined(inputs)}")
        if float32_hint and close(got, expected, FLOAT32_LIKE):
            fail(f"{what}: the values are off by about float32 rounding (max abs error "
                 f"{float(np.max(np.abs(got - expected))):.2g}); {float32_hint}. {joined(inputs)}")
    assert_close(got, expected, what=what, inputs=inputs, **tol)


# =========================================================================== forward_process (3)
LINEAR_CASES = {"T1000_default": (1000, {}), "T37_beta_1e-3_to_0.05": (37, {"beta_start": 1e-3, "beta_end": 0.05}),
                "T3_beta_0.1_to_0.3": (3, {"beta_start": 0.1, "beta_end": 0.3})}


@pytest.mark.part("forward_process")
@pytest.mark.parametrize("case", list(LINEAR_CASES))
def test_linear_schedule(sub, case):
    """linear_beta_schedule: float64 linspace(beta_start, beta_end, T)"""
    T, kw = LINEAR_CASES[case]
    call = f"linear_beta_schedule({T}" + "".join(f", {k}={v}" for k, v in kw.items()) + ")"
    info = probe(sub, "linear", T, kw, what=call)
    got = tensor_value(info, call, (T,))
    expect(info["dtype"] == "float64", f"{call} must return a float64 tensor, got {info['dtype']}")
    check(got, ref_linear(T, **kw), call, SCHEDULE, {"T": str(T)},
          float32_hint="compute in float64 (torch.linspace(..., dtype=torch.float64)), not in float32 and then convert")


COSINE_CASES = {"T1000_default": (1000, {}), "T37": (37, {}), "T7": (7, {}),
                "T50_s0.02_max_beta0.5": (50, {"s": 0.02, "max_beta": 0.5})}


@pytest.mark.part("forward_process", weight=2)   # the cosine schedule, the part's subtle formula
@pytest.mark.parametrize("case", list(COSINE_CASES))
def test_cosine_schedule(sub, case):
    """cosine_beta_schedule: 오프셋 s, max_beta로 자르기, float64"""
    T, kw = COSINE_CASES[case]
    call = f"cosine_beta_schedule({T}" + "".join(f", {k}={v}" for k, v in kw.items()) + ")"
    info = probe(sub, "cosine", T, kw, what=call)
    got = tensor_value(info, call, (T,))
    expect(info["dtype"] == "float64", f"{call} must return a float64 tensor (compute in float64: near t = T "
                                       f"the cos argument is close to pi/2), got {info['dtype']}")
    s, max_beta = kw.get("s", 0.008), kw.get("max_beta", 0.999)
    hints = [(ref_cosine(T, 0.0, max_beta), "they match the schedule without the offset s "
                                            "(f(tau) = cos^2((tau + s) / (1 + s) * pi / 2) with s = 0.008 by default)"),
             (ref_cosine(T, s, np.inf), f"they match the schedule without clipping: betas must be at most max_beta={max_beta}"),
             (np.minimum(ref_cosine(T, s, np.inf), 0.999), f"betas are clipped at 0.999 instead of max_beta={max_beta}"),
             (ref_cosine(T + 1, s, max_beta)[1:], "they are shifted by one step: betas[i] goes from tau = i/T to (i+1)/T")]
    if np.any(got > max_beta + 1e-12):
        fail(f"{call}: {int(np.sum(got > max_beta + 1e-12))} beta(s) above max_beta={max_beta}; "
             "clip with torch.clamp(..., max=max_beta)")
    check(got, ref_cosine(T, s, max_beta), call, SCHEDULE, {"T": str(T)}, hints,
          float32_hint="compute tau, f and the ratios in float64 (near tau = 1 the cos argument is close to pi/2)")


def _q_cases(seed):
    cases = {}
    rng = rng_for(seed, 1401)
    cases["points_cosine_T1000"] = (spec(rng.standard_normal((7, 2))), ispec([0, 999, 1, 500, 998, 250, 37]),
                                    spec(rng.standard_normal((7, 2))), ref_cosine(1000))
    rng = rng_for(seed, 1402)
    cases["images_channels_last_linear_T1000"] = (
        spec(rng.standard_normal((5, 3, 5, 5)), layout="channels_last"), ispec([999, 0, 123, 700, 2]),
        spec(rng.standard_normal((5, 3, 5, 5))), ref_linear(1000))
    rng = rng_for(seed, 1403)
    cases["large_negative_values_strided_t_T11"] = (
        spec(1000.0 * rng.standard_normal((9, 3)) - 500.0), ispec(rng.integers(0, 11, 9), layout="strided"),
        spec(rng.standard_normal((9, 3)), layout="transposed"), rng.uniform(0.01, 0.3, 11))
    rng = rng_for(seed, 1404)
    cases["one_image_t0_T37"] = (spec(rng.standard_normal((1, 1, 7, 7))), ispec([0]),
                                 spec(rng.standard_normal((1, 1, 7, 7)), layout="channels_last"), ref_cosine(37))
    return cases


Q_CASES = list(_q_cases(0))           # case names; the values are drawn per submission

Q_HINT_ALPHA = ("they match sqrt(alpha_t) x0 + sqrt(1 - alpha_t) noise with one step's alpha_t = 1 - betas[t]; "
                "q(x_t | x0) uses the cumulative product alpha_bar[t] = prod_{s<=t} (1 - betas[s])")
Q_HINT_SQRT = "they match alpha_bar x0 + (1 - alpha_bar) noise: the coefficients are sqrt(alpha_bar) and sqrt(1 - alpha_bar)"
Q_HINT_INDEX = ("they match a 1-indexed alpha_bar (shifted by one step); in this notebook t is 0-indexed: "
                "alpha_bar[t] = cumprod(1 - betas)[t], and t = 0 already holds one step of noise")


def q_expected_and_hints(x0, t, noise, betas):
    args = (np.asarray(x0["value"], dtype=np.float64), np.asarray(t["value"]),
            np.asarray(noise["value"], dtype=np.float64), np.asarray(betas))
    hints = [(ref_q_sample(*args, variant="alpha"), Q_HINT_ALPHA), (ref_q_sample(*args, variant="no_sqrt"), Q_HINT_SQRT),
             (ref_q_sample(*args, variant="one_indexed"), Q_HINT_INDEX), (ref_q_sample(*args, variant="t_minus_1"), Q_HINT_INDEX)]
    return ref_q_sample(*args), hints


@pytest.mark.part("forward_process", weight=2)   # q_sample with its float32 check below: half the part
@pytest.mark.parametrize("case", Q_CASES)
def test_q_sample(sub, case):
    """q_sample: sqrt(alpha_bar[t]) x0 + sqrt(1 - alpha_bar[t]) noise, 입력은 그대로, 새 텐서"""
    x0, t, noise, betas = _q_cases(sub.seed)[case]
    what = f"q_sample [{case}]"
    report = probe(sub, "q_sample", x0, t, noise, spec(betas), what=what)
    expected, hints = q_expected_and_hints(x0, t, noise, betas)
    got = tensor_value(report["out"], what, expected.shape)
    inputs = {"x0": describe(x0), "t": f"{describe(t)} with values {np.asarray(t['value']).tolist()}",
              "noise": describe(noise), "betas": f"float64 ({len(betas)},)"}
    check(got, expected, what, Q64, inputs, hints)
    expect(untouched(report, x0=x0, t=t, noise=noise, betas=betas), f"{what} changed one of its inputs in place")
    expect(not report["out"]["aliases"], f"{what} returned a tensor that shares memory with "
                                         f"{', '.join(report['out']['aliases'])}: return a new tensor")


@pytest.mark.part("forward_process")
def test_q_sample_float32_keeps_dtype(sub):
    """q_sample: float32 입력이면 float32 결과, 입력은 그대로"""
    rng = rng_for(sub.seed, 1405)
    x0 = spec(as_dtype(rng.standard_normal((6, 2)), "float32"), "float32")
    noise = spec(as_dtype(rng.standard_normal((6, 2)), "float32"), "float32")
    t, betas = ispec([5, 0, 199, 77, 120, 33]), ref_linear(200)
    what = "q_sample [float32 x0 and noise, float64 betas]"
    report = probe(sub, "q_sample", x0, t, noise, spec(betas), what=what)
    expected, hints = q_expected_and_hints(x0, t, noise, betas)
    got = tensor_value(report["out"], what, expected.shape)
    expect(report["out"]["dtype"] == "float32",
           f"{what}: the result has dtype {report['out']['dtype']}; it must keep x0's dtype float32 "
           "(float64 betas promote the product to float64: convert back with .to(x0.dtype))")
    check(got, expected, what, F32, {"x0": describe(x0), "t": str(np.asarray(t["value"]).tolist())}, hints)
    expect(untouched(report, x0=x0, t=t, noise=noise, betas=betas), f"{what} changed one of its inputs in place")


# =========================================================================== ddpm_loss (2)
def _loss_cases(seed):
    cases = {}
    rng = rng_for(seed, 1411)
    cases["points_cosine_T1000"] = dict(
        params=toy_params(rng, 2, 5), x0=spec(rng.standard_normal((9, 2))), t=ispec([0, 999, 500, 3, 998, 41, 250, 777, 1]),
        noise=spec(rng.standard_normal((9, 2))), betas=ref_cosine(1000), g=0.37)
    rng = rng_for(seed, 1412)
    cases["images_channels_last_linear_T1000"] = dict(
        params=toy_params(rng, 18, 4), x0=spec(rng.standard_normal((3, 2, 3, 3)), layout="channels_last"),
        t=ispec([10, 999, 0]), noise=spec(rng.standard_normal((3, 2, 3, 3)), layout="channels_last"),
        betas=ref_linear(1000), g=-1.7)
    rng = rng_for(seed, 1413)
    cases["large_x0_strided_t_T37"] = dict(
        params=toy_params(rng, 3, 6), x0=spec(20.0 * rng.standard_normal((5, 3)) - 10.0),
        t=ispec([36, 0, 17, 5, 30], layout="strided"), noise=spec(rng.standard_normal((5, 3)), layout="transposed"),
        betas=ref_cosine(37), g=2.3)
    return cases


LOSS_CASES = list(_loss_cases(0))           # case names; the values are drawn per submission


def standin_coefficients(c):
    """The stand-in q_sample's coefficients for this case: a[t], b[t] drawn in [0.2, 1.2), not sqrt(alpha_bar)."""
    rng = np.random.default_rng([c["seed"], 7])
    T = len(c["betas"])
    return {"a": rng.uniform(0.2, 1.2, T), "b": rng.uniform(0.2, 1.2, T)}


def loss_reference(c, variant="correct", x_t_from="standin"):
    """(loss, {param: grad of g * loss}) in torch float64. x_t_from: "standin" (the student's
    ddpm_loss calls q_sample, which is the stand-in during the probe) or "formula" (it wrote
    sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise itself)."""
    p = {k: t64(v).requires_grad_(True) for k, v in c["params"].items()}
    x0, noise = t64(c["x0"]["value"]), t64(c["noise"]["value"])
    t = torch.tensor(np.asarray(c["t"]["value"]), dtype=torch.int64)
    T = len(c["betas"])
    if x_t_from == "standin":
        coef = standin_coefficients(c)
        tt = np.asarray(c["t"]["value"])
        x_t = t64(bcast(coef["a"][tt], x0.dim()) * np.asarray(c["x0"]["value"])
                  + bcast(coef["b"][tt], x0.dim()) * np.asarray(c["noise"]["value"]))
    else:
        x_t = t64(ref_q_sample(c["x0"]["value"], np.asarray(c["t"]["value"]), c["noise"]["value"], c["betas"]))
    model_in = x0 if variant == "model_sees_x0" else x_t
    target = x0 if variant == "target_x0" else noise
    pred = toy_eps(p, model_in, t, T)
    loss = ((target - pred) ** 2).mean() if variant != "sum" else ((target - pred) ** 2).sum()
    (loss * c["g"]).backward()
    return loss.item(), {k: v.grad.numpy() for k, v in p.items()}


LOSS_HINTS = {"model_sees_x0": "it matches a loss whose model sees the clean x0; the model must get x_t = q_sample(x0, t, noise, betas)",
              "target_x0": "it matches a loss that regresses the model output on x0; the target is the noise",
              "sum": "it matches the SUM of the squared errors; L_simple is the mean over all elements"}


@pytest.mark.part("ddpm_loss")
@pytest.mark.parametrize("case", LOSS_CASES)
def test_ddpm_loss(sub, case):
    """ddpm_loss: 모델은 x_t를 보고 노이즈를 맞히며, 평균 제곱 오차와 모델 파라미터의 gradient가 맞다"""
    c = _loss_cases(sub.seed)[case]
    c["seed"] = [sub.seed, LOSS_CASES.index(case)]
    T = len(c["betas"])
    what = f"ddpm_loss [{case}]"
    report = probe(sub, "ddpm_loss", c["params"], c["x0"], c["t"], c["noise"], spec(c["betas"]), T, c["g"],
                   standin_coefficients(c), what=what)
    inputs = {"x0": describe(c["x0"]), "t": str(np.asarray(c["t"]["value"]).tolist()), "noise": describe(c["noise"]),
              "model": "a small tanh network of (x_t, t)",
              "q_sample": "a stand-in during this test (the notebook's q_sample is graded in part 1)"}
    info = report["out"]
    if info["kind"] != "torch":
        fail(f"{what} must return a torch.Tensor (0-d), got {info['kind']}")
    if info["shape"] != []:
        fail(f"{what}: the loss has shape {tuple(info['shape'])}; it must be a 0-d tensor (the mean over all elements)")
    if report["model_calls"] == 0:
        fail(f"{what}: the model was never called")
    got = np.asarray(info["value"], dtype=np.float64)
    # A ddpm_loss that calls q_sample got the stand-in's x_t; one that wrote the formula itself got the
    # real one. Both are right (the notebook says so): the expected values follow what it called.
    x_t_from = "standin" if report["q_sample_calls"] else "formula"
    expected, grads = loss_reference(c, x_t_from=x_t_from)
    hints = [(loss_reference(c, v, x_t_from)[0], h) for v, h in LOSS_HINTS.items()]
    check(got, np.asarray(expected), f"{what}: loss value", LOSS, inputs, hints)
    if not info["requires_grad"]:
        fail(f"{what}: the loss does not require grad: the graph to the model's parameters was cut "
             "(.item(), .detach(), .numpy(), torch.no_grad() or a new tensor built from values)")
    for name, want in grads.items():
        have = report["grads"][name]
        if have is None:
            fail(f"{what}: no gradient reached the model parameter {name}")
        assert_close(have, want, what=f"{what}: gradient of (g * loss) for the model parameter {name}",
                     inputs={**inputs, "g": "a random upstream gradient"}, **LOSS)
    expect(untouched(report, x0=c["x0"], t=c["t"], noise=c["noise"], betas=c["betas"]),
           f"{what} changed one of its inputs in place")


# =========================================================================== ddim (3)
AB_COS = np.cumprod(1.0 - ref_cosine(1000))
AB_LIN = np.cumprod(1.0 - ref_linear(1000))


def _step_cases(seed):
    cases = {}
    rng = rng_for(seed, 1421)
    x, e = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
    cases["eta_default_points"] = dict(x=spec(x), eps=spec(e), ab=(AB_COS[500], AB_COS[450]), eta=None, noise=None)
    cases["eta0_with_noise_given_must_ignore_it"] = dict(x=spec(x), eps=spec(e), ab=(AB_COS[500], AB_COS[450]), eta=0.0,
                                                         noise=spec(rng.standard_normal((7, 2))))
    rng = rng_for(seed, 1422)
    cases["eta1_linear_300_to_280"] = dict(x=spec(rng.standard_normal((5, 3))), eps=spec(rng.standard_normal((5, 3))),
                                           ab=(AB_LIN[300], AB_LIN[280]), eta=1.0, noise=spec(rng.standard_normal((5, 3))))
    rng = rng_for(seed, 1423)
    cases["eta0.5_images_channels_last_alpha_bar_tensors"] = dict(
        x=spec(rng.standard_normal((3, 3, 5, 5)), layout="channels_last"), eps=spec(rng.standard_normal((3, 3, 5, 5))),
        ab=(AB_COS[700], AB_COS[600]), eta=0.5, noise=spec(rng.standard_normal((3, 3, 5, 5)), layout="channels_last"),
        as_tensor=True)
    rng = rng_for(seed, 1424)
    x0, e = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
    ab_t, ab_prev = AB_LIN[600], AB_LIN[400]
    cases["exact_noise_eta0"] = dict(x=spec(math.sqrt(ab_t) * x0 + math.sqrt(1 - ab_t) * e), eps=spec(e),
                                     ab=(ab_t, ab_prev), eta=0.0, noise=None)
    rng = rng_for(seed, 1425)
    cases["last_step_to_alpha_bar_1_eta1"] = dict(x=spec(rng.standard_normal((7, 2))), eps=spec(rng.standard_normal((7, 2))),
                                                  ab=(AB_COS[19], 1.0), eta=1.0, noise=spec(rng.standard_normal((7, 2))))
    rng = rng_for(seed, 1426)
    cases["first_cosine_step_alpha_bar_2e-9"] = dict(
        x=spec(rng.standard_normal((4, 3))), eps=spec(rng.standard_normal((4, 3)), layout="transposed"),
        ab=(AB_COS[999], AB_COS[979]), eta=0.0, noise=None, as_tensor=True)
    rng = rng_for(seed, 1427)
    cases["float32_images_eta1"] = dict(
        x=spec(as_dtype(rng.standard_normal((2, 1, 7, 7)), "float32"), "float32"),
        eps=spec(as_dtype(rng.standard_normal((2, 1, 7, 7)), "float32"), "float32"),
        ab=(AB_LIN[250], AB_LIN[230]), eta=1.0, noise=spec(as_dtype(rng.standard_normal((2, 1, 7, 7)), "float32"), "float32"))
    return cases


STEP_CASES = list(_step_cases(0))           # case names; the values are drawn per submission


@pytest.mark.part("ddim")
@pytest.mark.parametrize("case", STEP_CASES)
def test_ddim_step(sub, case):
    """ddim_step: eta = 0은 결정적, eta > 0은 sigma * noise, 마지막 스텝, dtype 유지, 입력은 그대로"""
    c = _step_cases(sub.seed)[case]
    ab_t, ab_prev = (float(a) for a in c["ab"])
    eta = c["eta"]
    call = (f"ddim_step(x_t, eps, alpha_bar_t={ab_t:.4g}, alpha_bar_prev={ab_prev:.4g}"
            + (")" if eta is None else f", eta={eta}, noise={'given' if c['noise'] is not None else 'None'})"))
    what = f"{call} [{case}]"
    report = probe(sub, "ddim_step", c["x"], c["eps"], ab_t, ab_prev, eta, c["noise"], c.get("as_tensor", False), what=what)
    x = np.asarray(c["x"]["value"], dtype=np.float64)
    e = np.asarray(c["eps"]["value"], dtype=np.float64)
    n = None if c["noise"] is None else np.asarray(c["noise"]["value"], dtype=np.float64)
    expected = ref_ddim_step(x, e, ab_t, ab_prev, eta or 0.0, n)
    got = tensor_value(report["out"], what, expected.shape)
    inputs = {"x_t": describe(c["x"]), "eps": describe(c["eps"]), "noise": describe(c["noise"]),
              "alpha_bar_t, alpha_bar_prev": "0-d float64 tensors" if c.get("as_tensor") else "Python floats"}
    hints = []
    if not eta:
        if n is not None:
            hints.append((ref_ddim_step(x, e, ab_t, ab_prev, 0.0, n, variant="no_eta"),
                          "it matches a step that adds sigma * noise with sigma computed without the factor eta; "
                          "at eta = 0, sigma = 0 and the step is deterministic"))
        hints.append((ref_ddim_step(x, e, ab_t, ab_prev, 0.0, None, variant="no_eta"),
                      "it matches a step whose direction term uses sigma computed without the factor eta"))
    if eta and n is not None:
        hints.append((ref_ddim_step(x, e, ab_t, ab_prev, eta, None), "the noise term sigma * noise is missing"))
    tol = F32 if c["x"]["dtype"] == "float32" else DDIM
    if c["noise"] is not None and not eta:
        if not close(got, expected, tol):
            fail(f"{what}: eta = 0 must be deterministic: sigma = eta * ... = 0, so the given noise must not change "
                 f"x_prev. {joined(inputs)}")
    if ab_prev == 1.0 and not close(got, expected, tol):
        fail(f"{what}: the last step (alpha_bar_prev = 1) must return x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / "
             f"sqrt(alpha_bar_t); sigma is 0 there for every eta. {joined(inputs)}")
    if case == "exact_noise_eta0" and not close(got, expected, tol):
        fail(f"{what}: when eps is the exact noise of x_t, an eta = 0 step must land on sqrt(alpha_bar_prev) x0 + "
             f"sqrt(1 - alpha_bar_prev) eps. {joined(inputs)}")
    check(got, expected, what, tol, inputs, hints)
    expect(report["out"]["dtype"] == c["x"]["dtype"],
           f"{what}: the result has dtype {report['out']['dtype']}; x_prev keeps x_t's dtype {c['x']['dtype']}")
    expect(untouched(report, x_t=c["x"], eps=c["eps"], noise=c["noise"]), f"{what} changed one of its inputs in place")
    expect(not report["out"]["aliases"], f"{what} returned a tensor that shares memory with "
                                         f"{', '.join(report['out']['aliases'])}: return a new tensor")


def _sample_cases(seed):
    cases = {}
    rng = rng_for(seed, 1431)
    cases["points_cosine_T1000_50_steps_980_to_0"] = dict(
        params=toy_params(rng, 2, 5), x=spec(rng.standard_normal((7, 2))), steps=np.arange(980, -1, -20), ab=AB_COS)
    rng = rng_for(seed, 1432)
    cases["images_channels_last_cosine_from_999_not_ending_at_0"] = dict(
        params=toy_params(rng, 18, 6), x=spec(rng.standard_normal((3, 2, 3, 3)), layout="channels_last"),
        steps=np.arange(999, 0, -100), ab=AB_COS)
    rng = rng_for(seed, 1433)
    betas = ref_linear(50, 1e-3, 0.1)
    cases["points_linear_T50_uneven_steps"] = dict(
        params=toy_params(rng, 3, 4), x=spec(rng.standard_normal((5, 3))), steps=np.array([49, 40, 23, 11, 4, 0]),
        ab=np.cumprod(1.0 - betas))
    rng = rng_for(seed, 1434)
    cases["eta1_generator_points_cosine_T1000_10_steps"] = dict(
        params=toy_params(rng, 2, 5), x=spec(rng.standard_normal((7, 2))), steps=np.arange(900, -1, -100), ab=AB_COS,
        eta=1.0)
    rng = rng_for(seed, 1435)
    cases["eta0.5_generator_images_linear_T1000"] = dict(
        params=toy_params(rng, 18, 4), x=spec(rng.standard_normal((3, 2, 3, 3)), layout="channels_last"),
        steps=np.array([999, 700, 400, 100]), ab=AB_LIN, eta=0.5)
    return cases


SAMPLE_CASES = list(_sample_cases(0))           # case names; the values are drawn per submission


def sample_reference(c, skip_last=False):
    p = {k: t64(v) for k, v in c["params"].items()}
    x = np.asarray(c["x"]["value"], dtype=np.float64)
    steps, ab, T = [int(s) for s in c["steps"]], c["ab"], len(c["ab"])
    for i, t in enumerate(steps):
        if skip_last and i == len(steps) - 1:
            break
        eps = toy_eps(p, t64(x), torch.full((x.shape[0],), t, dtype=torch.int64), T).numpy()
        x = ref_ddim_step(x, eps, ab[t], ab[steps[i + 1]] if i + 1 < len(steps) else 1.0)
    return x


@pytest.mark.part("ddim")
@pytest.mark.parametrize("case", SAMPLE_CASES)
def test_ddim_sample(sub, case):
    """ddim_sample: timestep마다 한 번씩, 마지막은 alpha_bar_prev = 1; eta > 0이면 generator로만 노이즈"""
    c = _sample_cases(sub.seed)[case]
    if c.get("eta"):
        return check_stochastic_sample(sub, case, c)
    steps = [int(s) for s in c["steps"]]
    what = f"ddim_sample(model, x_T, timesteps, alpha_bar) [{case}]"
    report = probe(sub, "ddim_sample", c["params"], c["x"], np.asarray(steps), c["ab"], len(c["ab"]), what=what)
    expected = sample_reference(c)
    got = tensor_value(report["out"], what, expected.shape)
    shown = steps if len(steps) <= 12 else steps[:3] + ["..."] + steps[-2:]
    inputs = {"x_T": describe(c["x"]), "timesteps": str(shown), "alpha_bar": f"float64 ({len(c['ab'])},)",
              "model": "a small tanh network of (x, t)"}
    seen = report["steps_seen"]
    if not close(got, expected, DDIM) and seen != steps:
        listed = seen if len(seen) <= 12 else seen[:3] + ["..."] + seen[-2:]
        fail(f"{what}: the model was called {len(seen)} time(s) with t = {listed}; it must be called once per "
             f"timestep ({len(steps)} times), with t = timesteps[i], and the step from the last timestep goes to "
             f"alpha_bar_prev = 1. {joined(inputs)}")
    hints = [(sample_reference(c, skip_last=True),
              "it matches a loop that stops at the last timestep; after it, one more step to alpha_bar_prev = 1 "
              "returns x0_hat")]
    check(got, expected, what, DDIM, inputs, hints)
    expect(untouched(report, x_T=c["x"], timesteps=np.asarray(steps), alpha_bar=c["ab"]),
           f"{what} changed x_T, timesteps or alpha_bar in place")


def check_stochastic_sample(sub, case, c):
    """ddim_sample with eta > 0 and a torch.Generator. The noise is the student's to draw, so the
    values are not compared with a reference; what the notebook specifies is: the noise comes from
    `generator` only (the same generator seed gives the same sample whatever the global torch
    seed), eta > 0 adds noise (another generator seed gives another sample, and the sample is not
    the eta = 0 one), and the model still sees every timestep once."""
    steps = [int(s) for s in c["steps"]]
    eta = c["eta"]
    what = f"ddim_sample(model, x_T, timesteps, alpha_bar, eta={eta}, generator=g) [{case}]"
    seeds = np.random.default_rng([sub.seed, 1436]).integers(0, 2**31, 3)
    args = (c["params"], c["x"], np.asarray(steps), c["ab"], len(c["ab"]))
    runs = {}
    for name, gen_seed, global_seed in (("a", seeds[0], seeds[1]), ("same_generator", seeds[0], seeds[2]),
                                        ("other_generator", seeds[2], seeds[1])):
        report = probe(sub, "ddim_sample", *args, eta, int(gen_seed), int(global_seed), what=what)
        runs[name] = tensor_value(report["out"], what, np.shape(c["x"]["value"]))
        expect(report["steps_seen"] == steps, f"{what}: the model was called with t = {report['steps_seen']}; "
                                              f"expected once per timestep, {steps}")
        expect(untouched(report, x_T=c["x"], timesteps=np.asarray(steps), alpha_bar=c["ab"]),
               f"{what} changed x_T, timesteps or alpha_bar in place")
        expect(report["out"]["dtype"] == "float64", f"{what}: the sample has dtype {report['out']['dtype']}, x_T is float64")
    expect(np.array_equal(runs["a"], runs["same_generator"]),
           f"{what}: two runs with generators seeded alike (and different global torch seeds) gave different samples: "
           "draw the noise from the generator argument (torch.randn(shape, generator=generator, dtype=...)), not "
           "from the global random state")
    expect(not np.allclose(runs["a"], runs["other_generator"]),
           f"{what}: generators with different seeds gave the same sample: with eta > 0 every step adds sigma * noise, "
           "noise drawn from the generator")
    deterministic = sample_reference(c)
    expect(not np.allclose(runs["a"], deterministic, atol=1e-6, rtol=1e-6),
           f"{what}: the sample equals the eta = 0 (deterministic) sample: pass eta on to ddim_step")
    expect(np.all(np.isfinite(runs["a"])), f"{what}: the sample has NaN/inf")


# =========================================================================== cfg (2)
def _combine_cases(seed):
    cases = {}
    rng = rng_for(seed, 1441)
    u, c = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
    for w in (0.0, 1.0, 2.5, 7.5):
        cases[f"points_w{w}"] = (spec(u), spec(c), w)
    rng = rng_for(seed, 1442)
    cases["images_channels_last_w3_int"] = (spec(rng.standard_normal((3, 4, 5, 5)), layout="channels_last"),
                                            spec(rng.standard_normal((3, 4, 5, 5))), 3)
    rng = rng_for(seed, 1443)
    cases["large_values_w1.5"] = (spec(300.0 * rng.standard_normal((5, 3)) - 100.0),
                                  spec(300.0 * rng.standard_normal((5, 3)), layout="transposed"), 1.5)
    return cases


COMBINE_CASES = list(_combine_cases(0))           # case names; the values are drawn per submission


def cfg_hints(u, c, w):
    return [(u + w * (u - c), "the guidance sign is flipped: start from eps_uncond and move TOWARDS eps_cond, "
                              "eps_uncond + w * (eps_cond - eps_uncond)"),
            (c + w * (c - u), "it matches (1 + w) eps_cond - w eps_uncond (Ho & Salimans' w); this notebook uses "
                              "eps_uncond + w * (eps_cond - eps_uncond), where w = 1 is plain conditional"),
            (c + w * (u - c), "eps_cond and eps_uncond are swapped")]


@pytest.mark.part("cfg")
@pytest.mark.parametrize("case", COMBINE_CASES)
def test_cfg_combine(sub, case):
    """cfg_combine: eps_uncond + w (eps_cond - eps_uncond), 입력은 그대로"""
    su, sc, w = _combine_cases(sub.seed)[case]
    what = f"cfg_combine(eps_uncond, eps_cond, w={w}) [{case}]"
    report = probe(sub, "cfg_combine", su, sc, w, what=what)
    u, c = np.asarray(su["value"], dtype=np.float64), np.asarray(sc["value"], dtype=np.float64)
    expected = u + w * (c - u)
    got = tensor_value(report["out"], what, expected.shape)
    check(got, expected, what, F64, {"eps_uncond": describe(su), "eps_cond": describe(sc)}, cfg_hints(u, c, w))
    expect(untouched(report, eps_uncond=su, eps_cond=sc), f"{what} changed one of its inputs in place")


def _guided_cases(seed):
    cases = {}
    rng = rng_for(seed, 1451)
    p, x = toy_params(rng, 2, 5, n_labels=4), rng.standard_normal((7, 2))
    t, y = rng.integers(0, 1000, 7), np.array([0, 2, 1, 1, 0, 2, 0])
    for w in (0.0, 1.0, 4.5):
        cases[f"points_3_classes_null3_w{w}"] = dict(params=p, x=spec(x), t=ispec(t), y=ispec(y), w=w, null=3, T=1000)
    rng = rng_for(seed, 1452)
    cases["images_channels_last_null0_w2"] = dict(
        params=toy_params(rng, 9, 4, n_labels=6), x=spec(rng.standard_normal((5, 1, 3, 3)), layout="channels_last"),
        t=ispec([3, 0, 49, 17, 8]), y=ispec([1, 5, 2, 4, 3], layout="strided"), w=2.0, null=0, T=50)
    return cases


GUIDED_CASES = list(_guided_cases(0))           # case names; the values are drawn per submission


@pytest.mark.part("cfg")
@pytest.mark.parametrize("case", GUIDED_CASES)
def test_guided_eps(sub, case):
    """guided_eps: 무조건부 예측은 null_label로, 가이던스 결합이 맞다"""
    c = _guided_cases(sub.seed)[case]
    what = f"guided_eps(model, x_t, t, y, w={c['w']}, null_label={c['null']}) [{case}]"
    report = probe(sub, "guided_eps", c["params"], c["x"], c["t"], c["y"], c["w"], c["null"], c["T"], what=what)
    p = {k: t64(v) for k, v in c["params"].items()}
    x = t64(c["x"]["value"])
    t = torch.tensor(np.asarray(c["t"]["value"]), dtype=torch.int64)
    y = torch.tensor(np.asarray(c["y"]["value"]), dtype=torch.int64)
    e_c = toy_cond_eps(p, x, t, y, c["T"]).numpy()
    e_u = toy_cond_eps(p, x, t, torch.full_like(y, c["null"]), c["T"]).numpy()
    expected = e_u + c["w"] * (e_c - e_u)
    got = tensor_value(report["out"], what, expected.shape)
    inputs = {"x_t": describe(c["x"]), "y": str(np.asarray(c["y"]["value"]).tolist()),
              "model": "a small tanh network of (x, t, y)"}
    labels = [lab for call in report["labels_seen"] for lab in call]
    hints = cfg_hints(e_u, e_c, c["w"])
    if c["w"] != 1.0:
        hints.append((e_c, "it equals the conditional prediction: the unconditional pass must use null_label for every sample"))
    if c["w"] not in (0.0, 1.0) and c["null"] not in labels:
        fail(f"{what}: the model never saw the null label {c['null']}; the unconditional prediction is "
             f"model(x_t, t, null labels). {joined(inputs)}")
    check(got, expected, what, F64, inputs, hints)
    expect(untouched(report, x_t=c["x"], t=c["t"], y=c["y"]), f"{what} changed x_t, t or y in place")
