"""Hidden tests of part dpo_training (16_alignment_dpo): LoRALinear, make_policy and a graded DPO run.

The run happens inside the sandbox (probe `dpo_run`) with the student's make_policy and dpo_train
and the grader's stand-ins for sequence_logprobs / dpo_loss (a weighted log-likelihood on the
training rows and a scaled DPO loss, with random weights and scales drawn here: not the answers of
parts 2 and 3, which therefore cannot cost points here), seeded from sub.seed, once per
submission; the tests below read its report: the loss starts at ln 2, held-out reward accuracy
ends above 0.9, the reference is bit-for-bit unchanged, it got no gradients, the policy's base
weights are bit-for-bit unchanged while its LoRA weights moved.

Weights (14): the reference stays a frozen constant (unchanged, no gradients, no graph, not in the
optimizer) 3; only LoRA trains (the optimizer holds exactly the LoRA parameters, base unchanged, LoRA
moved) 3; the run starts at c * ln 2 2; it learns (held-out accuracy > 0.9) 2; the unit checks of
LoRALinear (2) and make_policy 1; the run's contract (beta passed on, floats logged, one
optimizer) 1. A bug in one of these properties therefore costs 1/14 to 3/14 of the part; mutants
that break one narrow property say so with `# loses:`.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail

pytestmark = pytest.mark.part("dpo_training")

# LoRALinear in float64: the student's layer and the closed forms below differ only in the order
# of the matmuls (x A^T B^T vs x (BA)^T), ~1e-15 relative on O(1) values. 1e-9 is far above that
# and far below the smallest mistake tested (a scaling of alpha instead of alpha/r: O(1)).
ATOL, RTOL = 1e-9, 1e-9
# The run computes in float32. At the first step the policy IS the reference (B = 0), so every
# reward is exactly 0 and the loss is -logsigmoid(0) = ln 2 rounded to float32 (error 3e-8).
# 1e-6 allows that and nothing else: a policy that differs from the reference at step 0 (B not
# zero-initialised) moves the loss by ~1e-2 or more.
LN2_TOL = 1e-6
# Held-out reward accuracy after 30 steps: 1.0 for the reference solution on every seed tried
# (0.97 at worst over 10 seeds and two initialisations of A); the part asks for > 0.9.
HELDOUT_MIN = 0.9

LINEARS = ("qkv", "proj", "fc1", "fc2")
N_LAYERS = 2


def compare(before, after):
    """(structure_same, bit_identical, max |after - before|, the first names that changed) of two
    {name: values} snapshots the probe read with describe(): decided here, not in the sandbox."""
    if set(before) != set(after):
        missing = sorted(set(before) - set(after))[:4]
        added = sorted(set(after) - set(before))[:4]
        return False, False, float("inf"), missing + added
    changed, worst = [], 0.0
    for name, old in before.items():
        old, new = np.asarray(old, dtype=np.float64), np.asarray(after[name], dtype=np.float64)
        if new.shape != old.shape or not np.array_equal(new, old):
            changed.append(name)
            worst = max(worst, float(np.max(np.abs(new - old)))) if new.shape == old.shape else float("inf")
    return True, not changed, worst, changed[:6]


def _probe(sub, name, *args, what, timeout=None, **kwargs):
    try:
        return sub.probe(name, *args, timeout=timeout, **kwargs)
    except StudentError as exc:
        fail(f"{what}: {exc}")


# --------------------------------------------------------------------------- LoRALinear
def _lora_inputs(seed):
    rng = np.random.default_rng(seed)
    d_in, d_out, r, alpha = 7, 5, 3, 5.0
    W, b = rng.standard_normal((d_out, d_in)), rng.standard_normal(d_out)
    A, B = rng.standard_normal((r, d_in)), rng.standard_normal((d_out, r))
    x = rng.standard_normal((2, 3, d_in))         # (N, T, d_in); the probe passes a transposed view
    G = rng.standard_normal((2, 3, d_out))        # random upstream gradient
    return W, b, A, B, x, r, alpha, G


NUMBER_TYPES = ("builtins.int", "builtins.float", "numpy.float64")   # what `scaling` may be (a number)


def _lora_judged(rep, W, b, x):
    """What the checks below read, decided here from the facts and values the probe recorded with
    describe() (requires_grad, types, shapes, initial A and B, the output at init)."""
    rep["base_frozen"] = [not g for g in rep["base_requires_grad"]]
    rep["lora_params"] = [rep[k]["type"] == "torch.nn.parameter.Parameter" for k in ("lora_A", "lora_B")]
    if not all(rep["lora_params"]):
        return rep
    A, B = (np.asarray(rep[k]["value"], dtype=np.float64) for k in ("lora_A", "lora_B"))
    rep["shape_A"], rep["shape_B"] = rep["lora_A"]["shape"], rep["lora_B"]["shape"]
    rep["A_nonzero"] = bool(np.all(np.isfinite(A)) and np.any(A != 0))
    rep["B_zero"] = bool(np.all(B == 0))
    rep["trainable"] = sorted(n for n, g in rep["requires_grad"].items() if g)
    s = rep["scaling"]
    rep["scaling"] = float(s["value"]) if s["type"] in NUMBER_TYPES and s["value"] is not None else None
    init = rep["init_out"]
    base_out = x @ W.T + b
    rep["init_max_diff"] = (float(np.max(np.abs(np.asarray(init["value"]).reshape(base_out.shape) - base_out)))
                            if init["value"] is not None and int(np.prod(init["shape"])) == base_out.size
                            else float("inf"))
    return rep


@pytest.mark.part("dpo_training", weight=2)   # LoRALinear is a third of the part's code: its two checks weigh 5 of 17
def test_lora_linear_init(sub):
    """LoRALinear 초기화: base 고정, A 무작위, B = 0, scaling = alpha / r"""
    W, b, A, B, x, r, alpha, G = _lora_inputs([sub.seed, 701])
    rep = _probe(sub, "lora_linear", W, b, A, B, x, r, alpha, G, what=f"LoRALinear(nn.Linear(7, 5), r={r}, alpha={alpha})")
    rep = _lora_judged(rep, W, b, x)
    what = f"LoRALinear(nn.Linear(7, 5), r={r}, alpha={alpha})"
    expect(rep["is_module"], f"{what} must be an nn.Module")
    expect(rep["base_kept"], f"{what}: self.base must be the nn.Linear that was passed in")
    expect(all(rep["base_frozen"]), f"{what}: the base weight and bias must be frozen (requires_grad=False)")
    expect(all(rep["lora_params"]), f"{what}: lora_A and lora_B must be nn.Parameter attributes")
    expect(rep["shape_A"] == [r, 7], f"{what}: lora_A has shape {tuple(rep['shape_A'])}, expected (r, in_features) = ({r}, 7)")
    expect(rep["shape_B"] == [5, r], f"{what}: lora_B has shape {tuple(rep['shape_B'])}, expected (out_features, r) = (5, {r})")
    expect(rep["B_zero"], f"{what}: lora_B must start at zero, so the layer starts equal to its base")
    expect(rep["A_nonzero"], f"{what}: lora_A must start at small random (finite, non-zero) values, "
                             "or B never gets a gradient")
    expect(rep["trainable"] == ["lora_A", "lora_B"],
           f"{what}: the trainable parameters are {rep['trainable']}, expected exactly ['lora_A', 'lora_B']")
    expect(rep["scaling"] is not None and abs(rep["scaling"] - alpha / r) < 1e-12,
           f"{what}: scaling is {rep['scaling']!r}, expected alpha / r")
    # B = 0 makes the update exactly 0; 1e-12 (float64) only allows computing x W^T + b another way.
    expect(rep["init_max_diff"] <= 1e-12,
           f"{what}: at initialisation the output differs from base(x) by {rep['init_max_diff']:.3g}")


@pytest.mark.part("dpo_training", weight=3)
def test_lora_linear_forward_backward(sub):
    """LoRALinear: 출력과 A, B, x의 gradient가 맞고 base는 gradient를 받지 않는다"""
    W, b, A, B, x, r, alpha, G = _lora_inputs([sub.seed, 702])
    what = f"LoRALinear(nn.Linear(7, 5), r={r}, alpha={alpha}) with lora_A, lora_B set to random values"
    rep = _lora_judged(_probe(sub, "lora_linear", W, b, A, B, x, r, alpha, G, what=what), W, b, x)
    if not all(rep.get("lora_params", [False])):
        fail(f"{what}: lora_A and lora_B must be nn.Parameter attributes")
    s = alpha / r
    want = x @ W.T + b + s * (x @ A.T @ B.T)
    inputs = {"x": x.shape, "A": A.shape, "B": B.shape}
    out = rep["out"]
    if out["value"] is None or out["type"] != "torch.Tensor":
        fail(f"{what}: forward must return a torch.Tensor, got {out['type']}")
    assert_close(np.asarray(out["value"]).reshape(out["shape"]), want, atol=ATOL, rtol=RTOL,
                 what=f"{what}: forward on a (2, 3, 7) input", inputs=inputs)
    if rep.get("no_grad"):
        fail(f"{what}: no gradient can flow back: {rep['no_grad']}")
    X, Gf = x.reshape(-1, 7), G.reshape(-1, 5)
    grads = {"grad_A": s * (Gf @ B).T @ X, "grad_B": s * Gf.T @ (X @ A.T), "grad_x": G @ W + s * (G @ B @ A)}
    for key, want_g in grads.items():
        if rep[key] is None:
            fail(f"{what}: no gradient reached {key[5:]}")
        assert_close(rep[key], want_g, atol=ATOL, rtol=RTOL,
                     what=f"{what}: d(sum G * out)/d {key[5:]} with a random G", inputs=inputs)
    expect(not any(rep["base_grads"]), f"{what}: the frozen base weight/bias received gradients")


# --------------------------------------------------------------------------- make_policy
def test_make_policy(sub):
    """make_policy: reference의 deepcopy, LoRA만 학습 가능, reference는 그대로"""
    r, alpha = 2, 6.0
    what = f"make_policy(reference, r={r}, alpha={alpha})"
    seed = int(sub.seed % 100_000) + 31
    rep = _probe(sub, "make_policy", seed, r, alpha, pairs_for_probe(make_preference_pairs(7, seed + 1)), what=what)
    rep["ref_structure_same"], rep["ref_unchanged"], _, rep["ref_changed"] = compare(rep["ref_before"], rep["ref_after"])
    expect(rep["is_module"], f"{what} must return the policy (an nn.Module)")
    expect(not rep["same_object"], f"{what} returned the reference itself; the policy must be a deep copy")
    expect(not rep["ref_lora_modules"] and rep["ref_structure_same"],
           f"{what} changed the reference's modules ({', '.join(rep['ref_lora_modules'][:3]) or rep['ref_changed']}): "
           "wrap the layers of a copy.deepcopy of it, never the reference itself")
    expect(rep["ref_unchanged"], f"{what} changed the reference's weights ({', '.join(rep['ref_changed'])})")
    wanted = [f"blocks.{i}.{name}" for i in range(N_LAYERS) for name in LINEARS]
    expect(rep["lora_modules"] == sorted(wanted),
           f"{what}: LoRALinear modules at {rep['lora_modules']}, expected one per nn.Linear of every block: {sorted(wanted)}")
    trainable = sorted(f"{m}.{p}" for m in wanted for p in ("lora_A", "lora_B"))
    extra = [n for n in rep["trainable"] if n not in trainable]
    expect(not extra, f"{what}: parameters outside LoRA are trainable ({', '.join(extra[:4])}{' ...' if len(extra) > 4 else ''}); "
                      "freeze every parameter of the copy")
    expect(rep["trainable"] == trainable, f"{what}: trainable parameters {rep['trainable']}, expected the lora_A/lora_B of {len(wanted)} layers")
    rep["init_max_diff"] = float(np.max(np.abs(np.asarray(rep["init_policy"]) - np.asarray(rep["init_reference"]))))
    # float32 logits of size O(1): 1e-5 allows a different but equivalent evaluation of the base
    # layers; a policy that does not start at the reference is off by O(0.1) or more.
    expect(rep["init_max_diff"] <= 1e-5,
           f"{what}: at initialisation the policy's logits differ from the reference's by {rep['init_max_diff']:.3g}")


# --------------------------------------------------------------------------- the graded DPO run
# The preference data of the notebook (given code), drawn here and sent to the probes (which build
# their batches from them), so the judge knows the rows the run trains on and can score the
# held-out pairs itself.
PAD, BOS, SEP = 0, 1, 2
FIRST_SYMBOL, N_SYMBOLS = 3, 13


def make_preference_pairs(n, seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        symbols = [rng.randrange(N_SYMBOLS) for _ in range(rng.randint(2, 4))]
        prompt = [BOS] + [FIRST_SYMBOL + s for s in symbols] + [SEP]
        last = symbols[-1]
        chosen = [FIRST_SYMBOL + (last + i) % N_SYMBOLS for i in range(1, rng.randint(2, 5) + 1)]
        rejected = [FIRST_SYMBOL + (last - i) % N_SYMBOLS for i in range(1, rng.randint(2, 5) + 1)]
        pairs.append((prompt, chosen, rejected))
    return pairs


def pairs_for_probe(pairs):
    """Pairs as plain lists for the sandbox protocol."""
    return [[list(prompt), list(chosen), list(rejected)] for prompt, chosen, rejected in pairs]


def run_config(seed):
    """The graded run of this submission: its seeds, beta (not the default 0.1, so a dpo_train
    that ignores its beta argument shows), and the stand-ins' random choices: the weights of the
    stand-in log-likelihood on the training rows and the loss scales k, c (away from 1, so the
    stand-ins are never the functions of parts 2 and 3)."""
    rng = np.random.default_rng([seed, 16])
    run = dict(seed=int(seed % 100_000), n_train=64, n_heldout=63, steps=30, beta=float(rng.choice([0.07, 0.15, 0.2])),
               lr=1e-2, r=4, alpha=8.0, k=float(rng.uniform(1.2, 1.6)), c=float(rng.uniform(0.6, 0.85)))
    run["train_pairs"] = make_preference_pairs(run["n_train"], run["seed"] + 100)
    run["heldout_pairs"] = make_preference_pairs(run["n_heldout"], run["seed"] + 200)
    rows = {}
    for prompt, chosen, rejected in run["train_pairs"]:
        for response in (chosen, rejected):
            row = tuple(prompt + response)
            positions = list(range(len(prompt) - 1, len(row) - 1))     # logits[t - 1] predict response token t
            rows[row] = (positions, list(row[len(prompt):]), rng.uniform(0.5, 1.5, len(positions)))
    run["rows"] = [[list(key), pos, tok, w] for key, (pos, tok, w) in rows.items()]
    return run


def heldout_accuracy(report, run):
    """Reward accuracy on the held-out pairs, from the returned logits, with the true sequence
    log-probabilities (response tokens only, label shift, padding out) in float64."""
    pairs = run["heldout_pairs"]
    rewards = {}
    for j, which in enumerate(("chosen", "rejected")):
        total = []
        for model in ("policy", "reference"):
            logits = np.asarray(report[f"heldout_{which}_{model}"], dtype=np.float64)
            logp = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
            sums = []
            for b, (prompt, *responses) in enumerate(pairs):
                row = prompt + responses[j]
                sums.append(sum(logp[b, t - 1, row[t]] for t in range(len(prompt), len(row))))
            total.append(np.array(sums))
        rewards[which] = run["beta"] * (total[0] - total[1])
    return float(np.mean(rewards["chosen"] > rewards["rejected"]))


@pytest.fixture(scope="module")
def run(sub):
    """The report of one seeded DPO run, shared by the tests below (pytest runs a module-scoped
    fixture once per suite run and re-raises its failure for every test that uses it)."""
    config = run_config(sub.seed)
    args = {key: config[key] for key in ("seed", "steps", "beta", "lr", "r", "alpha", "rows", "k", "c")}
    args.update(train_pairs=pairs_for_probe(config["train_pairs"]), heldout_pairs=pairs_for_probe(config["heldout_pairs"]))
    try:
        # ~1 s of training plus ~2 s for the first torch.optim import; 60 s covers a loaded machine.
        report = sub.probe("dpo_run", timeout=60, **args)
    except StudentError as exc:
        fail(f"the DPO run (make_policy + dpo_train, {config['steps']} steps) failed: {exc}")
    if "history_error" in report:
        fail(f"dpo_train must return {{'loss': [...], 'reward_accuracy': [...]}}: {report['history_error']}")
    report["config"] = config
    report["heldout_accuracy"] = heldout_accuracy(report, config)
    # what changed, decided here from the snapshots the probe read with describe() before and after
    same, bits, diff, changed = compare(report["ref_before"], report["ref_after"])
    report["ref_structure_same"], report["ref_unchanged"] = same, bits
    report["ref_max_diff"], report["ref_changed"] = diff, changed
    same, bits, diff, changed = compare(report["base_before"], report["base_after"])
    report["base_unchanged"], report["base_max_diff"], report["base_changed"] = same and bits, diff, changed
    before, after = report["lora_before"], report["lora_after"]
    moved = [float(np.max(np.abs(np.asarray(after[n], dtype=np.float64) - np.asarray(v, dtype=np.float64))))
             for n, v in before.items() if n in after and np.shape(after[n]) == np.shape(v) and np.size(v)]
    report["lora_max_change"] = max(moved) if moved else 0.0
    report["n_lora"] = len(before)
    return report


def _where(run):
    c = run["config"]
    return (f"in the graded DPO run ({c['n_train']} training pairs, {c['steps']} steps, beta={c['beta']}, "
            f"lr={c['lr']}, r={c['r']}, alpha={c['alpha']:g}; sequence_logprobs and dpo_loss are the grader's "
            f"stand-ins, a weighted log-likelihood and a DPO loss scaled by {c['c']:.3f})")


@pytest.mark.part("dpo_training", weight=2)
def test_dpo_run_starts_at_ln2(run):
    """DPO 학습: loss가 c ln 2에서 시작하고 첫 보상 정확도는 0"""
    loss, c = run["loss"], run["config"]
    expect(len(loss) == c["steps"], f"history['loss'] has {len(loss)} entries for steps={c['steps']} {_where(run)}")
    expect(np.isfinite(loss[0]), f"the first loss is not finite {_where(run)}")
    start = c["c"] * math.log(2.0)
    expect(abs(loss[0] - start) <= LN2_TOL,
           f"the first loss is {loss[0]:.6f}, expected {start:.6f} (the stand-in's {c['c']:.3f} * ln 2) {_where(run)}: "
           "the policy must start equal to the reference (lora_B = 0) and the loss must be recorded before the "
           "first update")
    acc = run["reward_accuracy"]
    expect(len(acc) == c["steps"], f"history['reward_accuracy'] has {len(acc)} entries for steps={c['steps']}")
    expect(acc[0] == 0.0, f"the first reward accuracy is {acc[0]:.3f} {_where(run)}: with all rewards 0 no pair is a strict win")


@pytest.mark.part("dpo_training", weight=2)
def test_dpo_run_learns_the_preference(run):
    """DPO 학습: loss가 내려가고 held-out 보상 정확도가 0.9를 넘는다"""
    loss, acc, c = run["loss"], run["reward_accuracy"], run["config"]
    expect(np.all(np.isfinite(loss)), f"the loss history has non-finite values {_where(run)}")
    expect(loss[-1] < 0.5 * c["c"], f"the loss only went from {loss[0]:.4f} to {loss[-1]:.4f} {_where(run)}")
    expect(acc[-1] > HELDOUT_MIN, f"the training reward accuracy ends at {acc[-1]:.3f} {_where(run)}")
    expect(run["heldout_accuracy"] > HELDOUT_MIN,
           f"the reward accuracy on {c['n_heldout']} held-out pairs is {run['heldout_accuracy']:.3f} after training "
           f"{_where(run)}; expected > {HELDOUT_MIN}")


def test_dpo_run_contract(run):
    """DPO 학습: beta를 넘기고, float을 기록하고, optimizer는 한 번만 만든다

    What dpo_train hands on and keeps: beta to dpo_loss, Python floats in the history, one
    optimizer built once (Adam's moments live in it: rebuilt every step they restart at zero)."""
    c = run["config"]
    seen = sorted(set(run["betas_seen"]))
    expect(seen == [c["beta"]], f"dpo_loss was called with beta {seen} but dpo_train got beta={c['beta']} {_where(run)}: "
                                "pass dpo_train's beta on")
    for key in ("loss", "reward_accuracy"):
        expect(run[f"{key}_types"] == ["builtins.float"],
               f"history[{key!r}] holds {', '.join(run[f'{key}_types'])}; it must hold Python floats "
               "(loss.item(), ...float().mean().item()): a tensor keeps its whole graph alive")
    expect(len(run["optimizers"]) == 1,
           f"dpo_train built {len(run['optimizers'])} optimizers {_where(run)}; build ONE torch.optim.Adam before the "
           "loop (rebuilt inside it, Adam's running moments restart at zero every step)")


@pytest.mark.part("dpo_training", weight=4)   # the reference is DPO's anchor: a moving one is a different objective
def test_dpo_run_reference_frozen(run):
    """DPO 학습: reference는 바뀌지 않고, gradient도 그래프도 없고, optimizer에 없다

    The reference is a constant: never changed, never given gradients, never in the optimizer,
    its log-probabilities computed without a graph."""
    expect(run["ref_structure_same"], f"the reference's parameters were renamed or replaced {_where(run)} "
                                      f"({', '.join(run['ref_changed'])}): make_policy must deep-copy it")
    in_optimizer = [n for n in run["optimizer_params"] if n.startswith("reference.")]
    expect(not in_optimizer, f"the optimizer holds reference parameters ({', '.join(in_optimizer[:3])}) {_where(run)}: "
                             "only the policy's trainable (LoRA) parameters go into the optimizer")
    expect(run["ref_unchanged"], f"the reference's weights changed {_where(run)} (max |after - before| = "
                                 f"{run['ref_max_diff']:.3g} in {', '.join(run['ref_changed'])}): "
                                 "the reference must never be updated (keep it out of the optimizer)")
    expect(not run["ref_grads"], f"the reference received gradients {_where(run)} ({', '.join(run['ref_grads'])}): "
                                 "compute its log-probabilities under torch.no_grad()")
    expect(not run["ref_logps_had_graph"], f"the reference's log-probabilities reached dpo_loss with a graph attached "
                                           f"{_where(run)}: compute them under torch.no_grad()")


@pytest.mark.part("dpo_training", weight=3)
def test_dpo_run_only_lora_trains(run):
    """DPO 학습: optimizer에는 LoRA 파라미터만, base 가중치는 그대로, LoRA는 움직였다"""
    held = [n for n in run["optimizer_params"] if not n.startswith("reference.")]
    expect(held == run["policy_trainable"] and all(n.endswith(("lora_A", "lora_B")) for n in held),
           f"the optimizer holds {held[:4]}{' ...' if len(held) > 4 else ''} {_where(run)}; it must hold exactly the "
           "policy's trainable parameters, the lora_A / lora_B of every adapted layer")
    expect(run["base_unchanged"], f"the policy's base weights changed {_where(run)} (max |after - before| = "
                                  f"{run['base_max_diff']:.3g} in {', '.join(run['base_changed'])}): only lora_A and "
                                  "lora_B may be trained")
    expect(run["n_lora"] > 0, f"the policy has no LoRA parameters {_where(run)}")
    expect(run["lora_max_change"] > 0.0, f"the LoRA weights did not move {_where(run)}")
