"""Probes for 16_alignment_dpo. They run INSIDE the sandbox, next to the student's notebook.

Parts reward_model, sequence_logprobs and dpo_loss call one student function on inputs built here
from the judge's arrays (torch tensors, float64 unless a test asks for float32, some of them
non-contiguous views) and report values and gradients.

Part dpo_training runs the student's LoRALinear, make_policy and dpo_train. During the graded run the
notebook's `sequence_logprobs`, `dpo_loss` and `response_logps` are swapped for STAND-INS (below):
functions that train a policy but are not the ones parts 2 and 3 ask for (random weights and
scales the judge chose for this run), so a mistake in parts 2 and 3 never costs points in part 4
and nothing here answers parts 2 and 3. The tiny GPT and the batching are rebuilt here (copies of
the notebook's given code) so the graded run does not depend on anything the student could have
redefined; the preference pairs are the judge's (test_dpo_training.py draws them with the
notebook's generator, sends them, and scores the held-out ones itself). Expected values are computed by the tests in the judge process; probes
only report what the student's code did.

Nothing is decided here: a notebook cell may patch torch (torch.equal, torch.Tensor.requires_grad,
.grad, .dtype, nn.Module.named_parameters) or return a Tensor subclass that lies. Types, dtypes,
shapes, requires_grad and values are read by the platform's describe() (C-level facts); gradients
through TensorBase's own descriptor; parameters from the modules' own registries; inputs and
weights that must stay unchanged are sent back (before and after) and the judge compares them.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

_MISSING = object()


# --------------------------------------------------------------------------- reporting helpers
_TENSOR, _PARAMETER = "torch.Tensor", "torch.nn.parameter.Parameter"


def _describe(x, inputs=None):
    """A returned value as {type, dtype, shape, value (float64 array or float), requires_grad, aliases},
    all read by the platform's describe() BEFORE any conversion: a subclass keeps its own type name
    (and gets no value), a patched torch changes nothing here."""
    d = describe(x, inputs)
    info = {"type": d["type"], "dtype": None, "shape": None, "value": None, "requires_grad": False,
            "aliases": list(d.get("aliases") or [])}
    if d.get("exact") is False:
        return info
    value = d.get("value")
    if d["type"] in (_TENSOR, _PARAMETER):
        info["dtype"], info["shape"], info["requires_grad"] = d["dtype"], d["shape"], d["requires_grad"] is True
        if type(value) is np.ndarray and value.dtype.kind in "biuf":
            v = value.astype(np.float64)
            info["value"] = float(v) if v.ndim == 0 else v
    elif type(value) is np.ndarray and value.dtype.kind in "biuf":      # a genuine ndarray
        info["shape"], info["value"] = list(d["shape"]), value.astype(np.float64)
    elif type(value) in (bool, int, float):                             # Python / NumPy scalars
        info["shape"], info["value"] = [], float(value)
    return info


def _values(t):
    """A tensor's values as float64, converted by describe() (not .numpy(), which a cell may patch)."""
    return _describe(t)["value"]


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


def _grad(t):
    g = _grad_of(t)
    return None if g is None else _values(g)


def _requires_grad(t) -> bool:
    return describe(t).get("requires_grad") is True


def _backward(out, info, upstream):
    """out.backward(upstream); returns None or a short reason why no gradient could flow. Decided
    from `info` (describe()'s record of out, which the judge receives too), not from out itself."""
    if info["type"] not in (_TENSOR, _PARAMETER):
        return f"the result is a {info['type']}, not a torch.Tensor"
    if not info["requires_grad"]:
        return "the result does not require grad (detached from the inputs)"
    out.backward(torch.as_tensor(np.asarray(upstream), dtype=getattr(torch, info["dtype"])).reshape(info["shape"]))
    return None


_MRO = type.__dict__["__mro__"].__get__


def _is_a(obj, cls) -> bool:
    """isinstance by the real type's MRO (a class cannot answer for itself via __instancecheck__/__class__)."""
    return any(k is cls for k in _MRO(type(obj)))


_GET = object.__getattribute__     # C slot: reads an instance's own __dict__, whatever its class says


def _named_modules(module):
    """(name, module) pairs of a module tree in named_modules()' order, each module once, read from
    the modules' own registries (`_modules`) and not through nn.Module's methods, which a cell may
    patch (a named_parameters() that hands the probes stale copies hides a reference that moved)."""
    seen, out = set(), []

    def walk(name, m):
        if id(m) in seen:
            return
        seen.add(id(m))
        out.append((name, m))
        for child, sub in _GET(m, "__dict__")["_modules"].items():
            if sub is not None:
                walk(f"{name}.{child}" if name else child, sub)
    walk("", module)
    return out


def _named_parameters(module):
    """(name, parameter) pairs in named_parameters()' order, each parameter once, read from the
    `_parameters` registries of _named_modules(module)."""
    seen, out = set(), []
    for prefix, m in _named_modules(module):
        for name, p in _GET(m, "__dict__")["_parameters"].items():
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                out.append((f"{prefix}.{name}" if prefix else name, p))
    return out


def _dtype(name):
    return {"float32": torch.float32, "float64": torch.float64}[name]


# --------------------------------------------------------------------------- part reward_model
def bt_loss(r_chosen, r_rejected, dtype="float64", strided=False, upstream=1.0):
    """bradley_terry_loss on (B,) scores; strided: both are columns of one (B, 2) leaf."""
    dt = _dtype(dtype)
    if strided:
        leaf = torch.tensor(np.stack([r_chosen, r_rejected], axis=1), dtype=dt, requires_grad=True)
        rc, rr = leaf[:, 0], leaf[:, 1]
    else:
        rc = torch.tensor(np.asarray(r_chosen), dtype=dt, requires_grad=True)
        rr = torch.tensor(np.asarray(r_rejected), dtype=dt, requires_grad=True)
    out = student.bradley_terry_loss(rc, rr)
    report = {"out": _describe(out)}
    report["no_grad"] = _backward(out, report["out"], upstream)
    if strided:
        g = _grad(leaf)
        report["grad_chosen"] = None if g is None else g[:, 0]
        report["grad_rejected"] = None if g is None else g[:, 1]
    else:
        report["grad_chosen"], report["grad_rejected"] = _grad(rc), _grad(rr)
    return report


def bt_accuracy(r_chosen, r_rejected, dtype="float64"):
    dt = _dtype(dtype)
    out = student.preference_accuracy(torch.tensor(np.asarray(r_chosen), dtype=dt),
                                      torch.tensor(np.asarray(r_rejected), dtype=dt))
    return _describe(out)


# --------------------------------------------------------------------------- part sequence_logprobs
def seq_logps(logits, input_ids, attention_mask, prompt_len, upstream, strided=False):
    """sequence_logprobs(logits, ids, mask, prompt_len) then .backward(upstream).

    strided: logits is a transposed view of a (T, B, V) leaf and ids/mask are transposed views,
    so none of the inputs is contiguous."""
    logits = np.asarray(logits, dtype=np.float64)
    if strided:
        leaf = torch.tensor(np.ascontiguousarray(logits.transpose(1, 0, 2)), requires_grad=True)
        lg = leaf.transpose(0, 1)
        ids = torch.tensor(np.ascontiguousarray(np.asarray(input_ids).T), dtype=torch.long).T
        mask = torch.tensor(np.ascontiguousarray(np.asarray(attention_mask).T), dtype=torch.long).T
    else:
        leaf = torch.tensor(logits, requires_grad=True)
        lg = leaf
        ids = torch.tensor(np.asarray(input_ids), dtype=torch.long)
        mask = torch.tensor(np.asarray(attention_mask), dtype=torch.long)
    plen = torch.tensor(np.asarray(prompt_len), dtype=torch.long)
    out = student.sequence_logprobs(lg, ids, mask, plen)
    report = {"out": _describe(out)}
    report["no_grad"] = _backward(out, report["out"], upstream)
    g = _grad(leaf)
    report["grad"] = None if g is None else (g.transpose(1, 0, 2) if strided else g)
    # the inputs as they are now; the judge decides whether they still hold what it sent
    report["inputs_after"] = {"input_ids": describe(ids), "attention_mask": describe(mask), "prompt_len": describe(plen)}
    return report


# --------------------------------------------------------------------------- part dpo_loss
def dpo(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta, upstream):
    pc = torch.tensor(np.asarray(policy_chosen), dtype=torch.float64, requires_grad=True)
    pr = torch.tensor(np.asarray(policy_rejected), dtype=torch.float64, requires_grad=True)
    rc = torch.tensor(np.asarray(ref_chosen), dtype=torch.float64)
    rr = torch.tensor(np.asarray(ref_rejected), dtype=torch.float64)
    out = student.dpo_loss(pc, pr, rc, rr, float(beta))
    d = describe(out)      # a genuine tuple/list and its length, not isinstance/len (a class can answer those)
    if d["type"] not in ("builtins.tuple", "builtins.list") or "items" not in d or len(d["items"]) != 3:
        return {"bad_return": d["type"] + (f" of length {len(d['items'])}" if "items" in d else "")}
    loss, chosen, rejected = out
    report = {"loss": _describe(loss), "chosen": _describe(chosen), "rejected": _describe(rejected)}
    report["no_grad"] = _backward(loss, report["loss"], upstream)
    report["grad_chosen"], report["grad_rejected"] = _grad(pc), _grad(pr)
    return report


# --------------------------------------------------------------------------- reference pieces (part 4)
PAD = 0
VOCAB_SIZE = 16        # the notebook's: PAD, BOS, SEP and 13 symbols


def _pairs(rows):
    """The judge's preference pairs, [[prompt, chosen, rejected], ...], as tuples of int lists."""
    return [tuple([int(t) for t in part] for part in row) for row in rows]


def _pad(rows):
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def _collate(pairs):
    chosen_ids, chosen_mask = _pad([p + c for p, c, _ in pairs])
    rejected_ids, rejected_mask = _pad([p + r for p, _, r in pairs])
    prompt_len = torch.tensor([len(p) for p, _, _ in pairs], dtype=torch.long)
    return {"chosen_ids": chosen_ids, "chosen_mask": chosen_mask,
            "rejected_ids": rejected_ids, "rejected_mask": rejected_mask, "prompt_len": prompt_len}


class _Config:
    def __init__(self, vocab_size=VOCAB_SIZE, d_model=32, n_layers=2, n_heads=2, max_len=16):
        self.vocab_size, self.d_model, self.n_layers = vocab_size, d_model, n_layers
        self.n_heads, self.max_len = n_heads, max_len


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.fc2 = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x):
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=-1)
        q, k, v = (z.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for z in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(att.transpose(1, 2).reshape(B, T, D))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyGPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.d_model)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(self, ids):
        x = self.tok_emb(ids) + self.pos_emb(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


class _StandIns:
    """What the notebook's sequence_logprobs, dpo_loss and response_logps are during the graded run.

    They are NOT those functions, so there is nothing here to copy for parts 2 and 3:
      sequence_logprobs  scores only rows the judge listed (the training batch's), each as a sum of
                         w * log_softmax(logits[row, position])[token] over (position, token, w)
                         triples the judge chose; the random weights w make it a weighted
                         log-likelihood, not log pi(y | x). Any other row raises.
      dpo_loss           c * mean(softplus(-k * (chosen - rejected))) with chosen = k * beta * (policy -
                         reference) returned detached: a DPO-like loss with random scales k, c.
    Both train a policy; the judge knows k, c and the weights and checks the run against them. The
    stand-ins log what the student's dpo_train handed them (beta, whether the reference's
    log-probabilities carried a graph).
    """

    def __init__(self, rows, k, c):
        self.rows = {tuple(int(t) for t in key): (np.asarray(pos, dtype=np.int64), np.asarray(tok, dtype=np.int64),
                                                    torch.tensor(np.asarray(w), dtype=torch.float32))
                     for key, pos, tok, w in rows}
        self.k, self.c = float(k), float(c)
        self.betas, self.ref_requires_grad = [], []

    def sequence_logprobs(self, logits, input_ids, attention_mask, prompt_len):
        ids = torch.as_tensor(input_ids).detach().cpu().numpy()
        logp = torch.log_softmax(logits, dim=-1)
        out = []
        for b in range(ids.shape[0]):
            row = [int(t) for t in ids[b]]
            while row and row[-1] == PAD:
                row.pop()
            if tuple(row) not in self.rows:
                raise LookupError("during the graded DPO run sequence_logprobs scores only the rows of the "
                                  "training batch it was given (pass the batch's ids as they are)")
            pos, tok, w = self.rows[tuple(row)]
            out.append((logp[b, pos, tok] * w.to(logp.dtype)).sum())
        return torch.stack(out)

    def response_logps(self, model, batch, which):
        ids, mask = batch[f"{which}_ids"], batch[f"{which}_mask"]
        return self.sequence_logprobs(model(ids), ids, mask, batch["prompt_len"])

    def dpo_loss(self, policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
        self.betas.append(float(beta))
        # describe()'s requires_grad (C-level), not the tensors' own attribute, which a cell may shadow
        self.ref_requires_grad.append(_requires_grad(ref_chosen_logps) or _requires_grad(ref_rejected_logps))
        chosen = self.k * beta * (policy_chosen_logps - ref_chosen_logps)
        rejected = self.k * beta * (policy_rejected_logps - ref_rejected_logps)
        return self.c * F.softplus(rejected - chosen).mean(), chosen.detach(), rejected.detach()


class _Swap:
    """The stand-ins under the notebook's names sequence_logprobs / dpo_loss / response_logps."""

    def __init__(self, standins):
        self.names = {"sequence_logprobs": standins.sequence_logprobs, "dpo_loss": standins.dpo_loss,
                      "response_logps": standins.response_logps}

    def __enter__(self):
        self.saved = {n: (getattr(student, n) if n in student else _MISSING) for n in self.names}
        for name, fn in self.names.items():
            setattr(student, name, fn)
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is _MISSING:
                student._namespace.pop(name, None)
            else:
                setattr(student, name, value)
        return False


def _refuse(*args, **kwargs):
    raise LookupError("make_policy must not compute log-probabilities or losses")


class _Refusing:
    sequence_logprobs = dpo_loss = response_logps = staticmethod(_refuse)


def _snapshot(model, lora=None):
    """{name: values} of the parameters, read by describe(); lora=True/False keeps only LoRA / only
    non-LoRA ones. Sent to the judge before and after, which decides what changed (torch.equal,
    clone or the parameters' own attributes may be patched here)."""
    out = {}
    for name, p in _named_parameters(model):
        is_lora = "lora_" in name
        if lora is None or lora == is_lora:
            out[name] = describe(p)["value"]
    return out


def _is_lora_module(module):
    """The module is the notebook's LoRALinear: its real type derives from it, or is named so."""
    kind = type(module)
    return (type.__dict__["__name__"].__get__(kind) == "LoRALinear"
            or ("LoRALinear" in student and _is_a(module, student.LoRALinear)))


# --------------------------------------------------------------------------- part dpo_training
def lora_linear(W, b, A, B, x, r, alpha, upstream):
    """LoRALinear(base, r, alpha) on a float64 nn.Linear with weights W, b.

    Reports the freshly built layer (facts and values of its parts, its output at init), then sets
    lora_A = A and lora_B = B, runs it on x (a non-contiguous (N, T, in) view) and backpropagates
    `upstream`. Every fact is describe()'s; the judge decides (frozen, zero, trainable, equal to base)."""
    W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
    base = nn.Linear(W.shape[1], W.shape[0]).double()
    with torch.no_grad():
        base.weight.copy_(torch.tensor(W))
        base.bias.copy_(torch.tensor(b))
    torch.manual_seed(0)
    layer = student.LoRALinear(base, int(r), float(alpha))
    report = {"is_module": _is_a(layer, nn.Module)}
    report["base_kept"] = getattr(layer, "base", None) is base
    report["base_requires_grad"] = [_requires_grad(p) for _, p in _named_parameters(base)]
    la, lb = getattr(layer, "lora_A", None), getattr(layer, "lora_B", None)
    report["lora_A"], report["lora_B"] = _describe(la), _describe(lb)     # type, shape, initial values
    if not all(report[k]["type"] == _PARAMETER for k in ("lora_A", "lora_B")):
        return report
    report["requires_grad"] = {n: _requires_grad(p) for n, p in _named_parameters(layer)}
    report["scaling"] = _describe(getattr(layer, "scaling", None))
    layer = layer.double()                         # lenient about the LoRA matrices' dtype
    x_leaf = torch.tensor(np.ascontiguousarray(np.asarray(x).transpose(1, 0, 2)), dtype=torch.float64,
                          requires_grad=True)
    xv = x_leaf.transpose(0, 1)                    # (N, T, in), not contiguous
    with torch.no_grad():
        report["init_out"] = _describe(layer(xv))  # the judge compares it with x W^T + b
        layer.lora_A.copy_(torch.tensor(np.asarray(A)))
        layer.lora_B.copy_(torch.tensor(np.asarray(B)))
    out = layer(xv)
    report["out"] = _describe(out)
    report["no_grad"] = _backward(out, report["out"], upstream)
    report["grad_A"], report["grad_B"] = _grad(layer.lora_A), _grad(layer.lora_B)
    g = _grad(x_leaf)
    report["grad_x"] = None if g is None else g.transpose(1, 0, 2)
    report["base_grads"] = [_grad_of(p) is not None for _, p in _named_parameters(base)]
    return report


def make_policy(seed, r, alpha, pairs):
    """student.make_policy on a fresh TinyGPT: the reference's weights before and after, the
    modules and trainable flags of both, and both models' logits at init on the judge's pairs."""
    torch.manual_seed(seed)
    reference = TinyGPT(_Config())
    before = _snapshot(reference)
    with _Swap(_Refusing()):
        policy = student.make_policy(reference, int(r), float(alpha))
    report = {"is_module": _is_a(policy, nn.Module), "same_object": policy is reference,
              "ref_before": before, "ref_after": _snapshot(reference)}
    report["ref_lora_modules"] = sorted(n for n, m in _named_modules(reference) if _is_lora_module(m))
    if not report["is_module"]:
        return report
    report["lora_modules"] = sorted(n for n, m in _named_modules(policy) if _is_lora_module(m))
    report["trainable"] = sorted(n for n, p in _named_parameters(policy) if _requires_grad(p))
    batch = _collate(_pairs(pairs))
    with torch.no_grad():
        ids = batch["chosen_ids"]
        report["init_policy"], report["init_reference"] = _values(policy(ids)), _values(reference(ids))
    return report


def dpo_run(seed, train_pairs, heldout_pairs, steps, beta, lr, r, alpha, rows, k, c):
    """The graded DPO run: the student's make_policy + dpo_train on the judge's training pairs, with
    the stand-ins above (rows, k, c: the judge's) under the notebook's log-prob and loss names.

    Returns the loss / reward-accuracy history, what the stand-ins were handed, the float64
    logits of the policy and the reference on the held-out pairs after training (the judge
    computes the held-out reward accuracy from them), and the reference's, the policy's base and
    its LoRA weights before and after (the judge compares them)."""
    torch.manual_seed(seed)
    reference = TinyGPT(_Config())
    ref_before = _snapshot(reference)
    train = _collate(_pairs(train_pairs))
    heldout = _collate(_pairs(heldout_pairs))
    standins = _StandIns(rows, k, c)
    report = {}
    with _Swap(standins):
        torch.manual_seed(seed + 1)
        policy = student.make_policy(reference, int(r), float(alpha))
        base_before = _snapshot(policy, lora=False)
        lora_before = _snapshot(policy, lora=True)
        torch.manual_seed(seed + 2)
        with _OptimizerLog() as optimizers:
            history = student.dpo_train(policy, reference, train, beta=float(beta), lr=float(lr), steps=int(steps))
    report["betas_seen"] = standins.betas
    report["ref_logps_had_graph"] = any(standins.ref_requires_grad)
    report["optimizers"] = [type_name(o) for o in optimizers.made]
    held = {id(p) for o in optimizers.made for group in o.param_groups for p in group["params"]}
    names = {id(p): f"policy.{n}" for n, p in _named_parameters(policy)}
    names.update({id(p): f"reference.{n}" for n, p in _named_parameters(reference)})
    report["optimizer_params"] = sorted(names.get(i, "<a tensor of neither model>") for i in held)
    report["policy_trainable"] = sorted(f"policy.{n}" for n, p in _named_parameters(policy) if _requires_grad(p))

    if not _is_a(history, dict):
        report["history_error"] = f"dpo_train returned a {type_name(history)}, not a dict"
    else:
        for key in ("loss", "reward_accuracy"):
            try:
                values = history[key]
                report[f"{key}_types"] = sorted({type_name(v) for v in values})
                report[key] = np.array([float(v) for v in values], dtype=np.float64)
            except KeyError:
                report["history_error"] = f"the dict returned by dpo_train has no key {key!r}"
            except (TypeError, ValueError) as exc:
                report["history_error"] = f"history[{key!r}] is not a list of numbers ({type(exc).__name__})"

    with torch.no_grad():
        for which in ("chosen", "rejected"):
            ids = heldout[f"{which}_ids"]
            report[f"heldout_{which}_policy"] = _values(policy(ids))
            report[f"heldout_{which}_reference"] = _values(reference(ids))

    report["ref_before"], report["ref_after"] = ref_before, _snapshot(reference)
    report["ref_grads"] = sorted(n for n, p in _named_parameters(reference) if _grad_of(p) is not None)[:6]
    report["base_before"], report["base_after"] = base_before, _snapshot(policy, lora=False)
    report["lora_before"], report["lora_after"] = lora_before, _snapshot(policy, lora=True)
    return report


class _OptimizerLog:
    """Records every torch.optim optimizer built while the student's dpo_train runs (how many, and
    which parameters they hold), by wrapping Optimizer.__init__ for the duration."""

    def __enter__(self):
        self.made = []
        self.original = torch.optim.Optimizer.__init__
        log, original = self.made, self.original

        def init(opt, *args, **kwargs):
            original(opt, *args, **kwargs)
            log.append(opt)
        torch.optim.Optimizer.__init__ = init
        return self

    def __exit__(self, *exc):
        torch.optim.Optimizer.__init__ = self.original
        return False
