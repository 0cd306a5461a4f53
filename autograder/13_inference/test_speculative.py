"""Hidden suite of 13_inference, parts expected_tokens (2 points) and speculative_step (3 points).

expected_tokens: acceptance_rate = sum_x min(p, q) over the last axis (not an unweighted mean of
min(1, p/q)), on single rows and (..., V) batches in non-contiguous layouts; expected_tokens_per_step
= (1 - alpha^(gamma+1)) / (1 - alpha) = sum_{j<=gamma} alpha^j, gamma + 1 at alpha = 1, elementwise
on arrays. Expected values: the geometric series summed term by term here, in float64.

speculative_step: residual_distribution = norm(max(0, p - q)) (p where p - q has no positive part);
deterministic cases (a draft with p >= q is always accepted, one with p = 0 always rejected); and the
statistics of thousands of seeded steps: at every position the emitted tokens follow the TARGET row
p_j (Pearson chi-square, p-value bound 1e-6, exact chi-square tail computed below with numpy/math
only), tokens resampled after a rejection follow the residual distribution, the emitted prefix equals
the accepted drafts, and the mean number of tokens per step matches sum_j prod_{i<j} alpha_i.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail
from course.judge.described import unchanged

# Tolerances.
# acceptance_rate and residual_distribution: a sum of <= 11 float64 terms of size <= 1 (rounding
# ~1e-15) and one division; 1e-12 is far above that and far below any formula mistake (>= 1e-3 here).
ATOL_PROB = 1e-12
# expected_tokens_per_step: the closed form loses relative precision like eps / (1 - alpha) through
# cancellation; with alpha <= 0.99 below that is ~2e-14. rtol 1e-9 leaves room for any correct
# formulation (closed form, series, np.power) and is far below the smallest mistake tested (>= 1e-2).
RTOL_TOKENS = 1e-9
# Statistical checks. A correct but differently organised implementation (other uses of the same
# Generator) gives other samples; each chi-square check then fails with probability 1e-6 and each
# z-check with probability ~6e-7, so a correct submission loses points with probability < 2e-5.
P_VALUE_BOUND = 1e-6
Z_BOUND = 5.0


def chi2_sf(x, df):
    """P(X >= x) for X ~ chi-square(df), df >= 1, in closed form (no scipy): for even df the Poisson
    sum exp(-x/2) sum_{i<df/2} (x/2)^i / i!; for odd df erfc(sqrt(x/2)) plus the matching series."""
    if x <= 0:
        return 1.0
    if df % 2 == 0:
        t, term, total = x / 2.0, 1.0, 1.0
        for i in range(1, df // 2):
            term *= t / i
            total += term
        return math.exp(-t) * total
    total = math.erfc(math.sqrt(x / 2.0))
    term = math.sqrt(2.0 * x / math.pi) * math.exp(-x / 2.0)
    for i in range(1, (df - 1) // 2 + 1):
        total += term
        term *= x / (2 * i + 1)
    return total


def chi_square(counts, probs):
    """Pearson statistic, degrees of freedom and p-value of counts against probs (bins with probs > 0)."""
    counts, probs = np.asarray(counts, dtype=np.float64), np.asarray(probs, dtype=np.float64)
    n = counts.sum()
    keep = probs > 0
    expected = n * probs[keep]
    stat = float(np.sum((counts[keep] - expected) ** 2 / expected))
    df = int(keep.sum()) - 1
    return stat, df, chi2_sf(stat, df)


def mixed_rows(rng, rows, V, concentration, floor):
    """Random distributions, every entry >= floor / V (so every chi-square bin expects >= 5 counts)."""
    d = rng.dirichlet(np.full(V, concentration), size=rows)
    return (1.0 - floor) * d + floor / V


# =========================================================================== expected_tokens (2)
def _acceptance_case(seed, shape, V):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(V, 0.8), size=shape)
    q = rng.dirichlet(np.full(V, 0.8), size=shape)
    return p, q


@pytest.mark.part("expected_tokens", weight=2)   # acceptance_rate is one of the part's two functions: half
@pytest.mark.parametrize("shape,V,layout", [((), 7, "contiguous"), ((5,), 11, "transposed"), ((2, 3), 9, "strided")],
                         ids=["one_row_V7", "batch5_V11_transposed", "batch2x3_V9_strided"])
def test_acceptance_rate(sub, shape, V, layout):
    """acceptance_rate: 마지막 축에 대한 sum min(p, q) (배치, 비연속 배열 포함)"""
    p, q = _acceptance_case([sub.seed, 100 + V], shape, V)
    if shape:                          # some rows with p == q (alpha = 1) and with disjoint supports (alpha = 0)
        p.reshape(-1, V)[0] = q.reshape(-1, V)[0]
        disjoint_p, disjoint_q = np.zeros(V), np.zeros(V)
        disjoint_p[: V // 2], disjoint_q[V // 2:] = 1.0 / (V // 2), 1.0 / (V - V // 2)
        p.reshape(-1, V)[-1], q.reshape(-1, V)[-1] = disjoint_p, disjoint_q
    got = sub.probe("tokens_acceptance", p, q, layout)
    want = np.minimum(p, q).sum(axis=-1)
    what = f"acceptance_rate(p, q) for p, q of shape {p.shape}" + ("" if layout == "contiguous" else f" ({layout}, non-contiguous)")
    if isinstance(got["value"], str):
        fail(f"{what}: expected {'a number' if not shape else 'an array'}, got {got['value']}")
    assert_close(got["value"], want, atol=ATOL_PROB, rtol=0.0, what=what,
                 inputs={"p": p, "q": q} if not shape else None)


TOKEN_CASES = [(0.0, 3), (0.3, 0), (0.3, 1), (0.55, 4), (0.8, 7), (0.9, 16), (0.99, 50), (1.0, 0), (1.0, 4), (1.0, 9)]


@pytest.mark.part("expected_tokens")
def test_expected_tokens_scalars(sub):
    """expected_tokens_per_step: (1 - a^(g+1)) / (1 - a), alpha = 1이면 gamma + 1"""
    got = sub.probe("tokens_expected", [[a, g] for a, g in TOKEN_CASES])
    for (a, g), value in zip(TOKEN_CASES, got):
        what = f"expected_tokens_per_step(alpha={a}, gamma={g})"
        if isinstance(value, str):
            fail(f"{what}: expected a number, got {value}")
        expect(math.isfinite(value), f"{what} = {value}: at alpha = 1 the limit of the formula is gamma + 1")
        want = sum(a ** j for j in range(g + 1))          # the geometric series, term by term
        assert_close(value, want, atol=0.0, rtol=RTOL_TOKENS, what=what)


@pytest.mark.part("expected_tokens")
def test_expected_tokens_array(sub):
    """expected_tokens_per_step: 배열 alpha에 원소별로 (1.0 포함)"""
    alpha = np.array([[0.0, 0.25, 0.5], [0.75, 0.9, 1.0], [0.1, 1.0, 0.6]])
    gamma = 5
    got = sub.probe("tokens_expected_array", alpha, gamma)
    what = f"expected_tokens_per_step(alpha, gamma={gamma}) for an array alpha of shape {alpha.shape} (containing 1.0)"
    if isinstance(got["value"], str):
        fail(f"{what}: expected an array, got {got['value']}")
    want = sum(alpha ** j for j in range(gamma + 1))
    assert_close(got["value"], want, atol=0.0, rtol=RTOL_TOKENS, what=what, inputs={"alpha": alpha})


# =========================================================================== speculative_step (3)
@pytest.mark.part("speculative_step")
@pytest.mark.parametrize("shape,V,layout", [((), 7, "contiguous"), ((4, 3), 9, "transposed")],
                         ids=["one_row", "batch4x3_transposed"])
def test_residual_distribution(sub, shape, V, layout):
    """residual_distribution: norm(max(0, p - q)), p == q인 행은 p (읽기 전용 입력)"""
    rng = np.random.default_rng([sub.seed, 7 + V])
    p = rng.dirichlet(np.ones(V), size=shape)
    q = rng.dirichlet(np.ones(V), size=shape)
    if shape:
        p[1, 2] = q[1, 2]                  # p == q: max(0, p - q) is all zero, the row must come back as p
        p[2, 0, :3], p[2, 0, 3:] = 0.0, 1.0 / (V - 3)      # target zero on some tokens
    try:
        reply = sub.probe("residual", p, q, layout)
    except StudentError as exc:
        fail(f"residual_distribution(p, q) with p, q of shape {p.shape} (read-only arrays): {exc}")
    # p and q as the probe read them after the call, compared here (not a read-only flag in the sandbox)
    expect(unchanged(reply["p_after"], p) and unchanged(reply["q_after"], q),
           f"residual_distribution(p, q) with p, q of shape {p.shape} changed p or q; they are read-only inputs")
    got = reply["out"]
    r = np.maximum(p - q, 0.0)
    z = r.sum(axis=-1, keepdims=True)
    want = np.where(z > 0, r / np.where(z > 0, z, 1.0), p)
    what = f"residual_distribution(p, q) for p, q of shape {p.shape}"
    if isinstance(got, str):
        fail(f"{what}: expected an array, got {got}")
    if shape:
        expect(np.shape(got) == want.shape, f"{what}: shape {np.shape(got)}, expected {want.shape}")
        same = got[1, 2]
        expect(np.all(np.isfinite(same)), f"{what}: the row where p == q has NaN/inf; return p there")
    assert_close(got, want, atol=ATOL_PROB, rtol=0.0, what=what, inputs={"p": p, "q": q} if not shape else None)


def _trials(sub, p, q, drafts, seed, what):
    try:
        got = sub.probe("spec_trials", p, q, drafts, seed, "transposed", timeout=30)
    except StudentError as exc:
        fail(f"{what}: {exc}")
    if got["bad"]:
        fail(f"{what}: {got['bad']}")
    # p and q as the probe read them after every step, compared here (not a read-only flag in the sandbox)
    expect(unchanged(got["p_after"], p) and unchanged(got["q_after"], q),
           f"{what}: speculative_step changed p or q; they are read-only inputs (sample from a new array)")
    return got["tokens"], got["lens"]


def _draw_drafts(rng, q, n):
    return np.stack([rng.choice(q.shape[1], size=n, p=q[i]) for i in range(q.shape[0])], axis=1)


@pytest.mark.part("speculative_step")
def test_draft_with_p_at_least_q_is_accepted(sub):
    # gamma = 3; every draft token has p(x) >= q(x), so min(1, p/q) = 1: every step must emit all three
    # drafts and then a bonus token, whatever the random numbers.
    """p(x) >= q(x)인 드래프트는 언제나 수용되고 보너스 토큰이 붙는다"""
    rng = np.random.default_rng([sub.seed, 21])
    V, gamma, n = 6, 3, 150
    q = mixed_rows(rng, gamma, V, 1.0, 0.3)
    p = mixed_rows(rng, gamma + 1, V, 1.0, 0.3)
    drafts = np.empty((n, gamma), dtype=np.int64)
    for i in range(gamma):
        ok = np.flatnonzero(p[i] >= q[i])
        drafts[:, i] = rng.choice(ok, size=n)
    what = f"speculative_step with gamma={gamma}, V={V}, drafts where p(x) >= q(x) ({n} steps)"
    tokens, lens = _trials(sub, p, q, drafts, [sub.seed, 5], what)
    bad = np.flatnonzero(lens != gamma + 1)
    if bad.size:
        i = int(bad[0])
        fail(f"{what}: step {i} emitted {int(lens[i])} tokens; every draft has p(x) >= q(x), so min(1, p/q) = 1: "
             f"all {gamma} drafts are accepted and a bonus token follows ({gamma + 1} tokens). "
             f"Draft {drafts[i].tolist()}, p at the drafts {[round(float(p[j, x]), 4) for j, x in enumerate(drafts[i])]}, "
             f"q at the drafts {[round(float(q[j, x]), 4) for j, x in enumerate(drafts[i])]}")
    expect(np.array_equal(tokens[:, :gamma], drafts), f"{what}: the first {gamma} emitted tokens must be the accepted drafts")


@pytest.mark.part("speculative_step")
def test_draft_the_target_never_picks_is_rejected(sub):
    # position 0's draft always has p(x) = 0: it must be rejected and replaced by a token from the
    # residual distribution (p > q there), and the step ends there.
    """p(x) = 0인 드래프트는 거절되고 잔여 분포에서 다시 뽑은 뒤 멈춘다"""
    rng = np.random.default_rng([sub.seed, 22])
    V, gamma, n = 7, 2, 150
    q = mixed_rows(rng, gamma, V, 1.0, 0.3)
    p = mixed_rows(rng, gamma + 1, V, 1.0, 0.3)
    p[0, :3] = 0.0
    p[0] /= p[0].sum()
    drafts = _draw_drafts(rng, q, n)
    drafts[:, 0] = rng.integers(0, 3, size=n)
    what = f"speculative_step with gamma={gamma}, V={V}, position 0's draft has p(x) = 0 ({n} steps)"
    tokens, lens = _trials(sub, p, q, drafts, [sub.seed, 6], what)
    bad = np.flatnonzero(lens != 1)
    if bad.size:
        i = int(bad[0])
        fail(f"{what}: step {i} emitted {int(lens[i])} tokens; the draft {int(drafts[i, 0])} at position 0 has "
             f"p = 0 (acceptance min(1, p/q) = 0), so it is rejected, one token is resampled and the step ends")
    first = tokens[:, 0]
    support = np.flatnonzero(p[0] > q[0])
    outside = np.flatnonzero(~np.isin(first, support))
    if outside.size:
        i = int(outside[0])
        fail(f"{what}: step {i} resampled token {int(first[i])}, where p - q <= 0; the residual "
             f"norm(max(0, p - q)) only has tokens {support.tolist()}")


STAT_V, STAT_GAMMA, STAT_TRIALS = 7, 4, 4000
REPEAT = 300          # steps run a second time with the same seed (determinism)


def stat_setup(seed):
    # 7 tokens (chi-square with 6 degrees of freedom); target and draft rows differ clearly
    # (acceptance rates ~0.5-0.8), so the draft's own distribution is rejected by a huge margin.
    rng = np.random.default_rng([seed, 2024])
    p = mixed_rows(rng, STAT_GAMMA + 1, STAT_V, 1.5, 0.15)
    q = mixed_rows(rng, STAT_GAMMA, STAT_V, 1.5, 0.15)
    drafts = _draw_drafts(rng, q, STAT_TRIALS)
    return p, q, drafts


@pytest.fixture(scope="module")
def stat_run(sub):
    p, q, drafts = stat_setup(sub.seed)
    what = (f"{STAT_TRIALS} seeded calls of speculative_step with gamma={STAT_GAMMA}, V={STAT_V} "
            f"(p, q read-only and non-contiguous)")
    try:
        tokens, lens = _trials(sub, p, q, drafts, [sub.seed, 11], what)
        # The same Generator seed again, on the first steps: speculative_step draws only from rng, so
        # the tokens must repeat exactly. The statistics below are about seeded, reproducible runs.
        again, again_lens = _trials(sub, p, q, drafts[:REPEAT], [sub.seed, 11], what)
    except AssertionError as exc:
        return {"error": str(exc)}
    if not (np.array_equal(again, tokens[:REPEAT]) and np.array_equal(again_lens, lens[:REPEAT])):
        step = int(np.argmax(np.any(again != tokens[:REPEAT], axis=1) | (again_lens != lens[:REPEAT])))
        return {"error": f"{what}: two runs with the same seeded Generator differ (first at step {step}): "
                         "speculative_step must draw every random number from its rng argument "
                         "(rng.random(), rng.choice(...)), never from np.random or another generator"}
    return {"p": p, "q": q, "drafts": drafts, "tokens": tokens, "lens": lens, "what": what}


def _stat(stat_run):
    if "error" in stat_run:
        fail(stat_run["error"])
    return stat_run


@pytest.mark.part("speculative_step", weight=2)
def test_emitted_tokens_follow_target(sub, stat_run):
    """위치마다 나온 토큰이 타깃 분포 p를 따른다 (카이제곱, 같은 seed면 같은 토큰)"""
    r = _stat(stat_run)
    p, q, tokens, lens = r["p"], r["q"], r["tokens"], r["lens"]
    for j in range(STAT_GAMMA + 1):
        toks = tokens[lens > j, j]
        kind = "the bonus token (all drafts accepted)" if j == STAT_GAMMA else f"position {j}"
        if toks.size < 50:
            fail(f"{r['what']}: only {toks.size} steps emitted a token at {kind}; with these acceptance rates "
                 f"about {int(STAT_TRIALS * np.prod(np.minimum(p[:j], q[:j]).sum(-1)))} should"
                 + (" (is the bonus token from p[gamma] missing?)" if j == STAT_GAMMA else ""))
        counts = np.bincount(toks, minlength=STAT_V)
        stat, df, pv = chi_square(counts, p[j])
        if pv < P_VALUE_BOUND:
            draft_row = q[j] if j < STAT_GAMMA else q[-1]
            stat_q, _, pv_q = chi_square(counts, draft_row)
            fail(f"{r['what']}: the tokens emitted at {kind} ({toks.size} steps) do not follow the target "
                 f"distribution p[{j}]: chi-square {stat:.1f} with {df} degrees of freedom, p-value {pv:.2g} "
                 f"< {P_VALUE_BOUND:g} (against the draft's q[{min(j, STAT_GAMMA - 1)}]: chi-square {stat_q:.1f}). "
                 f"Observed frequencies {np.round(counts / toks.size, 3).tolist()}")


@pytest.mark.part("speculative_step")
def test_prefix_is_accepted_drafts(sub, stat_run):
    """나온 토큰의 앞부분은 수용된 드래프트 그대로다"""
    r = _stat(stat_run)
    p, q, drafts, tokens, lens = r["p"], r["q"], r["drafts"], r["tokens"], r["lens"]
    for n in range(STAT_TRIALS):
        L = int(lens[n])
        if not np.array_equal(tokens[n, :L - 1], drafts[n, :L - 1]):
            fail(f"{r['what']}: step {n} emitted {tokens[n, :L].tolist()} for drafts {drafts[n].tolist()}: every "
                 f"token but the last must be an accepted draft token, in order (stop at the first rejection)")
        if L <= STAT_GAMMA:
            j, x, y = L - 1, int(drafts[n, L - 1]), int(tokens[n, L - 1])
            if y == x:
                fail(f"{r['what']}: step {n} emitted {tokens[n, :L].tolist()} for drafts {drafts[n].tolist()}: it ends "
                     f"with the draft token {x} itself after {L} tokens. If all {STAT_GAMMA} drafts were accepted, "
                     f"the bonus token from p[gamma] is missing; if the draft at position {j} was rejected, the "
                     f"replacement must come from norm(max(0, p - q)), which is 0 at a rejected draft")
            if p[j, y] <= q[j, y]:
                fail(f"{r['what']}: step {n} rejected the draft {x} at position {j} and emitted {y}; a token "
                     f"resampled after a rejection comes from norm(max(0, p - q)), which is 0 wherever "
                     f"p <= q (the rejected draft included)")


@pytest.mark.part("speculative_step")
def test_resampled_tokens_follow_residual(sub, stat_run):
    """거절 뒤 다시 뽑은 토큰이 잔여 분포를 따른다"""
    r = _stat(stat_run)
    p, q, tokens, lens = r["p"], r["q"], r["tokens"], r["lens"]
    for j in range(2):                               # positions 0 and 1 see enough rejections (~2000, ~800)
        rejected = lens == j + 1
        toks = tokens[rejected, j]
        if toks.size < 100:
            fail(f"{r['what']}: only {toks.size} steps ended with a rejection at position {j}; about "
                 f"{int(STAT_TRIALS * np.prod(np.minimum(p[:j], q[:j]).sum(-1)) * (1 - np.minimum(p[j], q[j]).sum()))} should")
        res = np.maximum(p[j] - q[j], 0.0)
        res /= res.sum()
        counts = np.bincount(toks, minlength=STAT_V)
        expect(not np.any(counts[res == 0]), f"{r['what']}: tokens were resampled at position {j} where p <= q")
        stat, df, pv = chi_square(counts, res)
        expect(pv >= P_VALUE_BOUND,
               f"{r['what']}: the tokens resampled after a rejection at position {j} do not follow "
               f"norm(max(0, p - q)): chi-square {stat:.1f} with {df} degrees of freedom, p-value {pv:.2g}")


@pytest.mark.part("speculative_step", weight=2)   # the speed-up itself: as heavy as the distribution check
def test_mean_tokens_per_step(sub, stat_run):
    """스텝당 평균 토큰 수가 수용률로 계산한 기댓값과 맞는다"""
    r = _stat(stat_run)
    p, q, lens = r["p"], r["q"], r["lens"]
    alphas = np.minimum(p[:STAT_GAMMA], q).sum(axis=-1)
    reach = np.array([np.prod(alphas[:j]) for j in range(STAT_GAMMA + 1)])    # P(length >= j + 1)
    probs = reach - np.append(reach[1:], 0.0)                                # P(length == j + 1)
    sizes = np.arange(1, STAT_GAMMA + 2)
    mean = float(np.sum(probs * sizes))
    sd = float(np.sqrt(np.sum(probs * sizes ** 2) - mean ** 2))
    got = float(lens.mean())
    z = (got - mean) / (sd / math.sqrt(STAT_TRIALS))
    expect(abs(z) <= Z_BOUND,
           f"{r['what']}: {got:.3f} tokens per step on average; with the acceptance rates sum min(p_i, q_i) of these "
           f"distributions a step yields {mean:.3f} on average (z = {z:.1f}): accept with probability min(1, p/q), "
           f"stop at the first rejection, and add the bonus token when all drafts are accepted")


@pytest.mark.part("speculative_step")
def test_bonus_token_when_all_accepted(sub):
    # p == q at every draft position: every draft is accepted, and the bonus token must follow p[gamma],
    # a row unlike every other one.
    """모두 수용되면 p[gamma]에서 보너스 토큰을 뽑는다"""
    rng = np.random.default_rng([sub.seed, 31])
    V, gamma, n = 5, 2, 1500
    q = mixed_rows(rng, gamma, V, 2.0, 0.2)
    p = np.vstack([q, [0.05, 0.05, 0.1, 0.2, 0.6]])
    drafts = _draw_drafts(rng, q, n)
    what = f"speculative_step with p[i] == q[i] for every draft position, gamma={gamma}, V={V} ({n} steps)"
    tokens, lens = _trials(sub, p, q, drafts, [sub.seed, 12], what)
    short = np.flatnonzero(lens != gamma + 1)
    if short.size:
        fail(f"{what}: step {int(short[0])} emitted {int(lens[short[0]])} tokens; with p == q every draft is "
             f"accepted (min(1, p/q) = 1) and the bonus token from p[gamma] follows: {gamma + 1} tokens")
    stat, df, pv = chi_square(np.bincount(tokens[:, gamma], minlength=V), p[gamma])
    expect(pv >= P_VALUE_BOUND,
           f"{what}: the bonus tokens do not follow the target's last row p[gamma]: chi-square {stat:.1f} with "
           f"{df} degrees of freedom, p-value {pv:.2g}")
