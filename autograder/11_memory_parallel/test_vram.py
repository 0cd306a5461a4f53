"""Hidden suite of 11_memory_parallel, part vram_calculator (4 points).

Expected values are integers computed here from the notebook's formulas (mixed-precision Adam:
2 + 2 + 12 bytes per parameter; ZeRO stage s partitions optimizer states (s >= 1), gradients (s >= 2),
parameters (s >= 3) into ceil(n / N)-element shards; activations per block 18sbh + 4sbf + 5as^2b bytes,
2sbh with full checkpointing). The parameter formula was cross-checked during development against
PyTorch modules (nn.Embedding x2 + nn.TransformerEncoderLayer x L + nn.LayerNorm).
Cases use odd sizes (n_params not divisible by N, d_ff != 4 d_model, odd heads / sequence lengths)
and real model scales (GPT-3 175B) where an int32 or float rounding would show.
"""
from __future__ import annotations

import numpy as np
import pytest

from course.judge.check import expect, fail

pytestmark = pytest.mark.part("vram_calculator")

# Tolerance: results are byte counts, i.e. integers. A float result is accepted when it is within 0.5 of
# the exact integer (float64 holds every integer below 2^53 ~ 9e15 exactly; the largest count here is
# ~3e12), so only a wrong formula fails, never a correct float computation.
INT_TOL = 0.5

CONFIGS = [
    dict(vocab_size=50257, max_seq_len=1024, d_model=768, n_layers=12, n_heads=12, d_ff=3072),      # GPT-2 small
    dict(vocab_size=1001, max_seq_len=77, d_model=48, n_layers=3, n_heads=4, d_ff=136),             # d_ff != 4h
    dict(vocab_size=7, max_seq_len=5, d_model=3, n_layers=1, n_heads=1, d_ff=5),                    # tiny, odd
    dict(vocab_size=50257, max_seq_len=2048, d_model=12288, n_layers=96, n_heads=96, d_ff=49152),   # GPT-3 175B
]


def random_config(sub, case):
    """One more config per submission (odd sizes, d_model a multiple of n_heads)."""
    rng = np.random.default_rng([sub.seed, case])
    heads = int(rng.integers(1, 17))
    return dict(vocab_size=int(rng.integers(5, 200_000)), max_seq_len=int(rng.integers(3, 9000)),
                d_model=heads * int(rng.integers(1, 300)), n_layers=int(rng.integers(1, 100)), n_heads=heads,
                d_ff=int(rng.integers(3, 50_000)))


def ref_params(c):
    h, f = c["d_model"], c["d_ff"]
    per_layer = 4 * h * h + 4 * h + 2 * h * f + f + h + 4 * h
    return c["vocab_size"] * h + c["max_seq_len"] * h + c["n_layers"] * per_layer + 2 * h


def ref_states(n, N, stage):
    shard = -(-n // N)
    return {"params": 2 * (shard if stage >= 3 else n),
            "grads": 2 * (shard if stage >= 2 else n),
            "optimizer": 12 * (shard if stage >= 1 else n)}


def ref_activations(c, b, s, ckpt):
    h, f, a, L = c["d_model"], c["d_ff"], c["n_heads"], c["n_layers"]
    if ckpt:
        return L * 2 * s * b * h
    return L * (18 * s * b * h + 4 * s * b * f + 5 * a * s * s * b)


def describe(c):
    return "GPTConfig(" + ", ".join(f"{k}={v}" for k, v in c.items()) + ")"


def check_int(got, want, what):
    if isinstance(got, str):
        fail(f"{what}: expected a number, got {got}")
    if abs(got - want) > INT_TOL:
        direction = "too large" if got > want else "too small"
        fail(f"{what}: got {got:,}, which is {direction}")


def test_count_params(sub):
    """count_params: 임베딩, 블록, 마지막 LayerNorm (LM head는 공유)"""
    configs = CONFIGS + [random_config(sub, 1)]
    got = sub.probe("vram_count_params", configs)
    expect(isinstance(got, list) and len(got) == len(configs), "count_params: wrong number of results")
    for c, g in zip(configs, got):
        check_int(g, ref_params(c), f"count_params({describe(c)})")


# (n_params, n_gpus): the ZeRO paper's 7.5B on 64 GPUs, sizes not divisible by N, N = 1, tiny n < N.
STATE_CASES = [(7_500_000_000, 64), (1_000_003, 8), (124_439_808, 5), (174_591_184_896, 7), (13, 5), (3, 8), (10, 1)]


@pytest.mark.part("vram_calculator", weight=0.5)
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_model_state_bytes(sub, stage):
    """model_state_bytes: 혼합 정밀도 Adam과 ZeRO 단계별 분할"""
    rng = np.random.default_rng([sub.seed, 2])
    extra = [(int(rng.integers(1, 10**12)), int(rng.integers(2, 1025)))]
    cases = [[n, N, stage] for n, N in STATE_CASES + extra]
    got = sub.probe("vram_model_states", cases)
    expect(isinstance(got, list) and len(got) == len(cases), "model_state_bytes: wrong number of results")
    for (n, N, _), g in zip(cases, got):
        call = f"model_state_bytes({n}, n_gpus={N}, zero_stage={stage})"
        if isinstance(g, str):
            fail(f"{call}: expected a dict, got {g}")
        want = ref_states(n, N, stage)
        expect(set(g) == set(want), f"{call}: keys {sorted(g)}, expected exactly {sorted(want)}")
        for key in ("params", "grads", "optimizer"):
            check_int(g[key], want[key], f"{call}[{key!r}]")


ACT_CASES = [
    (CONFIGS[0], 8, 1024),
    (CONFIGS[1], 3, 77),
    (CONFIGS[2], 5, 3),
    (dict(vocab_size=32000, max_seq_len=4096, d_model=4096, n_layers=32, n_heads=32, d_ff=11008), 1, 4095),
]


@pytest.mark.part("vram_calculator", weight=0.5)
@pytest.mark.parametrize("ckpt", [False, True])
def test_activation_bytes(sub, ckpt):
    """activation_bytes: 블록당 활성값 (checkpointing 포함)"""
    rng = np.random.default_rng([sub.seed, 3])
    extra = [(random_config(sub, 4), int(rng.integers(1, 65)), int(rng.integers(1, 9000)))]
    cases = [[c, b, s, ckpt] for c, b, s in ACT_CASES + extra]
    got = sub.probe("vram_activations", cases)
    expect(isinstance(got, list) and len(got) == len(cases), "activation_bytes: wrong number of results")
    for (c, b, s, _), g in zip(cases, got):
        check_int(g, ref_activations(c, b, s, ckpt),
                  f"activation_bytes({describe(c)}, batch_size={b}, seq_len={s}, checkpointing={ckpt})")


# The calculator end to end (the notebook's table: bytes one GPU holds), the student's three
# functions chained: any wrong piece makes the total wrong, so it weighs as much as the pieces.
@pytest.mark.part("vram_calculator", weight=2)
def test_vram_total_per_gpu(sub):
    """VRAM 계산기 전체: 모델 상태 + 활성값 (GPU 하나)"""
    cases = [[CONFIGS[0], 1, 0, 8, 1024, False], [CONFIGS[0], 4, 1, 8, 1024, True], [CONFIGS[1], 3, 2, 3, 77, False],
             [CONFIGS[3], 64, 3, 1, 2048, True], [random_config(sub, 5), 7, 2, 2, 333, False],
             [random_config(sub, 6), 5, 3, 3, 129, True], [CONFIGS[2], 8, 1, 5, 3, False]]
    got = sub.probe("vram_total", cases)
    expect(isinstance(got, list) and len(got) == len(cases), "vram total: wrong number of results")
    for (c, N, stage, b, s, ck), g in zip(cases, got):
        want = sum(ref_states(ref_params(c), N, stage).values()) + ref_activations(c, b, s, ck)
        check_int(g, want, f"sum(model_state_bytes(count_params(cfg), n_gpus={N}, zero_stage={stage}).values()) + "
                           f"activation_bytes(cfg, {b}, {s}, checkpointing={ck}) for cfg = {describe(c)}")
