"""Hidden tests of parts reward_model, sequence_logprobs and dpo_loss (16_alignment_dpo).

Every expected value is computed here in NumPy float64 from the same seeded inputs the probe
turns into torch tensors; gradients are checked against closed forms with RANDOM upstream
gradients, so a result that is right only for .sum() / .backward() with ones is caught.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Tolerances.
# float64 inputs: the reference formulas are evaluated here in float64. A correct solution in
# float64 matches to ~1e-13; one that computes in float32 on the way (logits.float() before
# log_softmax, as TRL does, is legitimate) is off by float32 rounding: ~6e-8 relative per term,
# i.e. <= 1e-6 relative / 1e-4 absolute on the largest values here (~5e3). rtol 1e-5 with atol
# 1e-5 accepts both; every mistake tested moves a value by >= 1e-2 relative (averaging, prompt or
# padding counted, no shift, beta ignored) or makes it non-finite (log of an underflowed sigmoid
# or softmax).
ATOL64, RTOL64 = 1e-5, 1e-5
# float32 inputs (reward_model only): one float32 rounding of a difference of up to ~2e3 is
# ~1e-4 absolute, i.e. 6e-8 relative; means of 13 such terms stay within rtol 1e-5. The gradients
# are sigmoid values / B <= 0.08 computed in float32: atol 1e-6 covers their rounding.
ATOL32, RTOL32 = 1e-6, 1e-5


def _log_sigmoid(z):
    """log sigma(z) in float64, stable for any z."""
    return -np.logaddexp(0.0, -z)


def _sigmoid(z):
    return np.exp(_log_sigmoid(z))


def _value(info, what, shape):
    """The student's returned value as a float64 array of `shape`, or a Failure saying why not."""
    if info["value"] is None:
        fail(f"{what} returned a {info['type']}, not a torch.Tensor of numbers")
    expect(info["type"] == "torch.Tensor", f"{what} must return a torch.Tensor, got {info['type']}")
    got = np.asarray(info["value"], dtype=np.float64)
    if tuple(info["shape"]) != tuple(shape):
        fail(f"{what}: shape {tuple(info['shape'])} but expected {tuple(shape)}")
    return got.reshape(shape)


def _grads_present(report, what):
    if report.get("no_grad"):
        fail(f"{what}: no gradient can flow back: {report['no_grad']}")


def _probe(sub, name, *args, what, **kwargs):
    try:
        return sub.probe(name, *args, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


# =========================================================================== reward_model (2)
def _bt_expected(rc, rr, g):
    d = rc - rr
    loss = -np.mean(_log_sigmoid(d))
    grad_c = -g * _sigmoid(-d) / d.size          # d/d r_chosen of -mean(log sigma(rc - rr))
    return loss, grad_c, -grad_c


BT_CASES = {
    # name: (B, scale, dtype, strided)
    "B7_float64": (7, 3.0, "float64", False),
    "B13_float32_strided": (13, 2.0, "float32", True),
    "B9_large_float64": (9, 900.0, "float64", False),     # |r_w - r_l| up to ~2e3: log(sigmoid) -> -inf
    "B11_large_float32_strided": (11, 300.0, "float32", True),   # sigmoid(-150) underflows in float32
}


@pytest.mark.part("reward_model")
@pytest.mark.parametrize("case", list(BT_CASES))
def test_bradley_terry_loss(sub, case):
    """bradley_terry_loss: -mean(log sigmoid(r_w - r_l)), 큰 값에서도 유한, gradient가 맞다"""
    B, scale, dtype, strided = BT_CASES[case]
    rng = np.random.default_rng([sub.seed, 100 + B])
    rc, rr = scale * rng.standard_normal(B), scale * rng.standard_normal(B)
    if dtype == "float32":
        rc, rr = rc.astype(np.float32).astype(np.float64), rr.astype(np.float32).astype(np.float64)
    g = float(rng.uniform(0.5, 2.0)) * (-1.0 if B % 2 else 1.0)      # random upstream dL/dloss
    atol, rtol = (ATOL64, RTOL64) if dtype == "float64" else (ATOL32, RTOL32)
    inputs = {"r_chosen": rc, "r_rejected": rr, "dtype": dtype}
    what = f"bradley_terry_loss on {B} {dtype} pairs" + (" (non-contiguous views)" if strided else "")
    rep = _probe(sub, "bt_loss", rc, rr, dtype=dtype, strided=strided, upstream=g, what=what)
    loss, grad_c, grad_r = _bt_expected(rc, rr, g)
    got = _value(rep["out"], what, ())
    assert_close(got, loss, atol=atol, rtol=rtol, what=f"{what}: the loss", inputs=inputs)
    _grads_present(rep, what)
    for key, want, name in (("grad_chosen", grad_c, "r_chosen"), ("grad_rejected", grad_r, "r_rejected")):
        if rep[key] is None:
            fail(f"{what}: no gradient reached {name}")
        assert_close(rep[key], want, atol=atol, rtol=rtol,
                     what=f"{what}: d loss / d {name} (upstream gradient {g:.3g})", inputs=inputs)


@pytest.mark.part("reward_model")
@pytest.mark.parametrize("B", [9, 1])
def test_preference_accuracy(sub, B):
    """preference_accuracy: 엄격한 부등호 (동점은 실패), Python float"""
    rng = np.random.default_rng([sub.seed, 200 + B])
    rc = np.round(rng.standard_normal(B), 1)
    rr = np.round(rng.standard_normal(B), 1)
    rr[::3] = rc[::3]                            # ties: not wins
    if B > 1:
        rr[1] = rc[1] - 1e-3                     # a small but strict win
    info = _probe(sub, "bt_accuracy", rc, rr, what=f"preference_accuracy on {B} pairs")
    if info["value"] is None or info["shape"] not in ([], [1]):
        fail(f"preference_accuracy must return one number (a Python float), got {info['type']}")
    expect(info["type"] == "builtins.float", f"preference_accuracy must return a Python float (.item()), got {info['type']}")
    want = float(np.mean(rc > rr))
    # A float32 mean (e.g. .float().mean()) rounds k/B by ~6e-8; two different counts differ by
    # 1/B >= 0.11 here, so 1e-6 accepts float32 and rejects every wrong count.
    assert_close(float(np.ravel(info["value"])[0]), want, atol=1e-6, rtol=0,
                 what=f"preference_accuracy on {B} pairs (ties count as not won)",
                 inputs={"r_chosen": rc, "r_rejected": rr})


# =========================================================================== sequence_logprobs (3)
def _batch(rng, B, T, V, plens, lens):
    """ids, mask, prompt_len: row b has lens[b] real tokens of which plens[b] are prompt, then PAD=0."""
    ids = np.zeros((B, T), dtype=np.int64)
    mask = np.zeros((B, T), dtype=np.int64)
    for b in range(B):
        ids[b, :lens[b]] = rng.integers(1, V, lens[b])
        mask[b, :lens[b]] = 1
    return ids, mask, np.asarray(plens, dtype=np.int64)


def _logps_expected(logits, ids, mask, plen, G):
    lse = np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    logp = logits - lse
    soft = np.exp(logp)
    B, T, V = logits.shape
    out = np.zeros(B)
    grad = np.zeros_like(logits)
    for b in range(B):
        for t in range(max(int(plen[b]), 1), T):
            if mask[b, t]:
                out[b] += logp[b, t - 1, ids[b, t]]
                grad[b, t - 1] -= G[b] * soft[b, t - 1]
                grad[b, t - 1, ids[b, t]] += G[b]
    return out, grad


LOGPS_CASES = {
    # name: (B, T, V, prompt lengths, real lengths (the rest is padding), logit scale, strided)
    "B5_T11_V7": (5, 11, 7, [3, 1, 4, 6, 2], [11, 6, 9, 8, 4], 2.0, False),
    "B3_T9_V16_noncontiguous": (3, 9, 16, [4, 5, 2], [7, 9, 5], 2.0, True),
    "B4_T8_V5_large_logits": (4, 8, 5, [2, 3, 5, 1], [8, 5, 7, 3], 800.0, False),
    "B1_T6_V9_response_of_one": (1, 6, 9, [5], [6], 1.5, False),
}


@pytest.mark.part("sequence_logprobs")
@pytest.mark.parametrize("case", list(LOGPS_CASES))
def test_sequence_logprobs(sub, case):
    """sequence_logprobs: 응답 토큰만, label shift, padding 제외, 합, gradient가 맞다"""
    B, T, V, plens, lens, scale, strided = LOGPS_CASES[case]
    rng = np.random.default_rng([sub.seed, 300 + B * 10 + T])
    ids, mask, plen = _batch(rng, B, T, V, plens, lens)
    logits = scale * rng.standard_normal((B, T, V))
    G = rng.standard_normal(B)                   # random upstream dL/d logps
    what = f"sequence_logprobs with logits {(B, T, V)}" + (" (non-contiguous inputs)" if strided else "")
    inputs = {"input_ids": ids if ids.size <= 12 else ids.shape, "prompt_len": plen,
              "real lengths": np.asarray(lens)}
    rep = _probe(sub, "seq_logps", logits, ids, mask, plen, G, strided=strided, what=what)
    want, grad = _logps_expected(logits, ids, mask, plen, G)
    got = _value(rep["out"], what, (B,))
    hint = ""
    if np.all(np.isfinite(got)) and not np.allclose(got, want, atol=ATOL64, rtol=RTOL64):
        hint = (" (count response tokens only: t >= prompt_len, attention_mask 1; score token t with the logits"
                " of position t-1; add, do not average)")
    try:
        assert_close(got, want, atol=ATOL64, rtol=RTOL64, what=f"{what}: the log-probabilities", inputs=inputs)
    except AssertionError as exc:
        fail(str(exc) + hint)
    # judged here from what the probe read back after the call (in the sandbox torch.equal may be patched)
    after = rep["inputs_after"]
    expect(unchanged(after["input_ids"], ids) and unchanged(after["attention_mask"], mask)
           and unchanged(after["prompt_len"], plen),
           f"{what}: input_ids, attention_mask or prompt_len were modified in place")
    _grads_present(rep, what)
    if rep["grad"] is None:
        fail(f"{what}: no gradient reached the logits")
    assert_close(rep["grad"], grad, atol=ATOL64, rtol=RTOL64,
                 what=f"{what}: d(sum G * logps)/d logits with a random G", inputs=inputs)


@pytest.mark.part("sequence_logprobs")
def test_sequence_logprobs_prompt_and_padding_ignored(sub):
    # Changing the tokens/logits that must not count (prompt targets, padding) must not change the
    # result; changing a response token must. Caught separately so the message can say which.
    """sequence_logprobs: 프롬프트와 padding 위치는 결과에 영향이 없다"""
    B, T, V = 3, 10, 6
    rng = np.random.default_rng([sub.seed, 401])
    ids, mask, plen = _batch(rng, B, T, V, [4, 2, 5], [10, 7, 8])
    logits = rng.standard_normal((B, T, V))
    G = np.ones(B)
    base = _probe(sub, "seq_logps", logits, ids, mask, plen, G, what="sequence_logprobs")
    ref = _value(base["out"], "sequence_logprobs", (B,))
    checks = []
    ids2 = ids.copy()
    ids2[0, 1:4] = (ids2[0, 1:4] % (V - 1)) + 1      # other prompt tokens in row 0 (positions < prompt_len)
    logits2 = logits.copy()
    logits2[0, 0:2] += 3.0 * rng.standard_normal((2, V))   # logits that only predict prompt tokens
    checks.append(("the prompt tokens of row 0 (positions < prompt_len)", ids2, logits2, False))
    ids3 = ids.copy()
    ids3[1, 7:] = rng.integers(1, V, T - 7)               # other values under the padding of row 1
    logits3 = logits.copy()
    logits3[1, 7:] += 3.0 * rng.standard_normal((T - 7, V))
    checks.append(("the padded positions of row 1 (attention_mask 0)", ids3, logits3, False))
    for what, ids_x, logits_x, _ in checks:
        rep = _probe(sub, "seq_logps", logits_x, ids_x, mask, plen, G, what="sequence_logprobs")
        got = _value(rep["out"], "sequence_logprobs", (B,))
        expect(np.allclose(got, ref, atol=ATOL64, rtol=RTOL64),
               f"sequence_logprobs changed when only {what} changed: those tokens must not be counted "
               f"(prompt_len={plen.tolist()}, real lengths=[10, 7, 8], T={T})")


# =========================================================================== dpo_loss (2)
def _dpo_expected(pc, pr, rc, rr, beta, g):
    cr, rj = beta * (pc - rc), beta * (pr - rr)
    z = cr - rj
    loss = -np.mean(_log_sigmoid(z))
    dz = -g * _sigmoid(-z) / z.size              # d loss / d z, times the upstream gradient
    return loss, cr, rj, beta * dz, -beta * dz


DPO_CASES = {
    # name: (B, beta, logp scale, policy-vs-reference spread)
    "B9_beta0.1": (9, 0.1, 8.0, 2.0),
    "B5_beta2.5_large": (5, 2.5, 3000.0, 400.0),   # |z| up to ~2e3: naive log(sigmoid) gives inf
    "B1_beta0.5": (1, 0.5, 6.0, 1.0),
    "B7_beta1.7": (7, 1.7, 20.0, 3.0),
}


@pytest.mark.part("dpo_loss")
@pytest.mark.parametrize("case", list(DPO_CASES))
def test_dpo_loss(sub, case):
    """dpo_loss: loss, 보상 (beta 곱, detach), gradient가 맞다"""
    B, beta, scale, spread = DPO_CASES[case]
    rng = np.random.default_rng([sub.seed, 500 + B])
    rc, rr = -scale * rng.uniform(0.2, 1.0, B), -scale * rng.uniform(0.2, 1.0, B)
    pc, pr = rc + spread * rng.standard_normal(B), rr + spread * rng.standard_normal(B)
    g = float(rng.uniform(0.5, 2.0))             # random upstream dL/dloss
    what = f"dpo_loss on {B} pairs with beta={beta}"
    inputs = {"policy_chosen": pc, "policy_rejected": pr, "ref_chosen": rc, "ref_rejected": rr, "beta": beta}
    rep = _probe(sub, "dpo", pc, pr, rc, rr, beta, g, what=what)
    if "bad_return" in rep:
        fail(f"{what} must return (loss, chosen_rewards, rejected_rewards), got {rep['bad_return']}")
    loss, cr, rj, gc, gr = _dpo_expected(pc, pr, rc, rr, beta, g)
    assert_close(_value(rep["chosen"], f"{what}: chosen_rewards", (B,)), cr, atol=ATOL64, rtol=RTOL64,
                 what=f"{what}: chosen_rewards = beta * (policy - reference)", inputs=inputs)
    assert_close(_value(rep["rejected"], f"{what}: rejected_rewards", (B,)), rj, atol=ATOL64, rtol=RTOL64,
                 what=f"{what}: rejected_rewards = beta * (policy - reference)", inputs=inputs)
    assert_close(_value(rep["loss"], f"{what}: the loss", ()), loss, atol=ATOL64, rtol=RTOL64,
                 what=f"{what}: the loss", inputs=inputs)
    # The notebook's convention: the rewards are for logging, returned detached (the loss carries the graph).
    for key in ("chosen", "rejected"):
        expect(not rep[key]["requires_grad"], f"{what}: {key}_rewards requires grad; return the rewards detached "
                                             "(.detach()): they are logged, only the loss carries the graph")
    _grads_present(rep, what)
    for key, want, name in (("grad_chosen", gc, "policy_chosen_logps"), ("grad_rejected", gr, "policy_rejected_logps")):
        if rep[key] is None:
            fail(f"{what}: no gradient reached {name}")
        assert_close(rep[key], want, atol=ATOL64, rtol=RTOL64,
                     what=f"{what}: d loss / d {name} (upstream gradient {g:.3g})", inputs=inputs)


@pytest.mark.part("dpo_loss")
def test_dpo_loss_at_reference_is_ln2(sub):
    # policy == reference: every reward is 0 and the loss is ln 2, whatever beta.
    """dpo_loss: 정책 == reference이면 ln 2"""
    rng = np.random.default_rng([sub.seed, 601])
    rc, rr = -10 * rng.uniform(0.2, 1, 6), -10 * rng.uniform(0.2, 1, 6)
    rep = _probe(sub, "dpo", rc, rr, rc, rr, 0.3, 1.0, what="dpo_loss with policy == reference")
    if "bad_return" in rep:
        fail(f"dpo_loss must return (loss, chosen_rewards, rejected_rewards), got {rep['bad_return']}")
    # all rewards are exactly 0: ln 2 up to float32 rounding (3e-8) if the student computes in float32
    assert_close(_value(rep["loss"], "dpo_loss", ()), math.log(2.0), atol=1e-6, rtol=0,
                 what="dpo_loss with policy log-probs equal to the reference's (expected ln 2)")
