"""Probes for 08_transformer_lm. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation: the pieces of the model that are NOT under test are
swapped for the reference versions below for the duration of one probe, so a mistake in one
part never costs points in another (the notebook tells students so):

  decoder_block  the student's CausalSelfAttention.forward, MLP.forward and Block.forward.
  tiny_gpt       the student's GPT.forward, get_batch, lm_loss and train;
                 reference CausalSelfAttention / MLP / Block forwards.
  kv_cache       the student's KVCache.update, incremental_logits and generate;
                 reference forwards for every module (GPT included) and a reference greedy
                 sample_next; the reference GPT.forward logs every call (tokens fed, start_pos).
  sampling       the student's sample_next only.

Weights come from the judge as arrays (a state_dict by name); models run in float64 so that the
judge's float64 reference can be compared tightly. Probes only run the student's code and report
what it produced; every expected value is computed by the hidden tests in the judge process.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

_MISSING = object()


# --------------------------------------------------------------------------- reference pieces
def _ref_attention(q, k, v):
    # q: (B, H, T, hd); k, v: (B, H, S, hd), S >= T; query i sits at absolute position S - T + i
    T, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    i = torch.arange(S - T, S).unsqueeze(1)
    j = torch.arange(S).unsqueeze(0)
    scores = scores.masked_fill(j > i, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _ref_attn_forward(self, x, cache=None):
    B, T, C = x.shape
    H = self.n_head
    q, k, v = self.qkv(x).split(C, dim=-1)
    q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
    if cache is not None:
        k, v = cache.update(k, v)
    y = _ref_attention(q, k, v)
    return self.proj(y.transpose(1, 2).reshape(B, T, C))


def _ref_mlp_forward(self, x):
    return self.proj(F.gelu(self.fc(x)))


def _ref_block_forward(self, x, cache=None):
    x = x + self.attn(self.ln1(x), cache)
    return x + self.mlp(self.ln2(x))


_CALLS = []   # (tokens fed, start_pos, caches given) for every reference GPT.forward call


def _ref_gpt_forward(self, idx, caches=None, start_pos=0):
    B, T = idx.shape
    _CALLS.append((int(T), int(start_pos), caches is not None))
    if start_pos + T > self.cfg.block_size:
        raise ValueError(f"positions {start_pos}..{start_pos + T - 1} exceed block_size {self.cfg.block_size}")
    pos = torch.arange(start_pos, start_pos + T)
    x = self.tok_emb(idx) + self.pos_emb(pos)
    for i, block in enumerate(self.blocks):
        x = block(x, None if caches is None else caches[i])
    return self.head(self.ln_f(x))


def _ref_sample_next(logits, temperature=1.0, top_k=None, generator=None):
    return torch.argmax(logits, dim=-1)      # greedy: generate() is probed with temperature=0


class _RefCache:
    """A correct KV cache, for probing the block and the GPT's cache plumbing."""

    def __init__(self, k=None, v=None):
        self.k, self.v = k, v

    @property
    def length(self):
        return 0 if self.k is None else self.k.shape[2]

    def update(self, k_new, v_new):
        if self.k is None:
            self.k, self.v = k_new, v_new
        else:
            self.k = torch.cat([self.k, k_new], dim=2)
            self.v = torch.cat([self.v, v_new], dim=2)
        return self.k, self.v


class _Swap:
    """Temporarily replace class attributes (methods) and notebook globals by reference ones."""

    def __init__(self, methods=(), globals_=()):
        self.methods = list(methods)      # (class name, attribute, value)
        self.globals = list(globals_)     # (name, value)
        self.saved = []

    def __enter__(self):
        for cls_name, attr, value in self.methods:
            cls = getattr(student, cls_name)
            self.saved.append(("m", cls, attr, cls.__dict__.get(attr, _MISSING)))
            setattr(cls, attr, value)
        for name, value in self.globals:
            self.saved.append(("g", None, name, getattr(student, name) if name in student else _MISSING))
            setattr(student, name, value)
        return self

    def __exit__(self, *exc):
        for kind, cls, attr, old in reversed(self.saved):
            if kind == "m":
                if old is _MISSING:
                    try:
                        delattr(cls, attr)
                    except AttributeError:
                        pass
                else:
                    setattr(cls, attr, old)
            elif old is not _MISSING:
                setattr(student, attr, old)
        return False


_REF_MODULES = [("CausalSelfAttention", "forward", _ref_attn_forward),
                ("MLP", "forward", _ref_mlp_forward),
                ("Block", "forward", _ref_block_forward)]


# --------------------------------------------------------------------------- helpers
def _config(cfg):
    return student.GPTConfig(**cfg)


def _load(module, weights):
    """float64 copy of the module with the judge's weights (every parameter must be given)."""
    module = module.double()
    state = {name: torch.tensor(np.asarray(value), dtype=torch.float64) for name, value in weights.items()}
    module.load_state_dict(state, strict=True)
    module.eval()
    return module


def _arr(x):
    """A tensor as a float64 / int64 array, or a string saying what it was instead."""
    if x is None:
        return "None"
    if isinstance(x, torch.Tensor):
        a = x.detach().cpu()
        return a.numpy().astype(np.int64) if a.dtype in (torch.int64, torch.int32) else a.double().numpy()
    return f"<{type(x).__module__}.{type(x).__qualname__}>"


def _non_contiguous(x):
    """x arrives as (T, B, C); the student gets the (B, T, C) view, which is not contiguous."""
    t = torch.tensor(np.asarray(x), dtype=torch.float64)
    return t.permute(1, 0, 2)


# --------------------------------------------------------------------------- decoder_block
def module_forward(which, cfg, weights, x_tbc, past_k=None, past_v=None):
    """Student's CausalSelfAttention / MLP / Block on a non-contiguous (B, T, C) float64 input.

    With past_k/past_v (B, H, P, hd) a reference cache holding them is passed as `cache`; the
    cache's contents afterwards are reported too."""
    cls = {"attn": "CausalSelfAttention", "mlp": "MLP", "block": "Block"}[which]
    module = _load(getattr(student, cls)(_config(cfg)), weights)
    x = _non_contiguous(x_tbc)
    cache = None
    if past_k is not None:
        cache = _RefCache(torch.tensor(np.asarray(past_k)), torch.tensor(np.asarray(past_v)))
    with torch.no_grad():
        out = module(x) if cache is None else module(x, cache)
    report = {"type": type_name(out), "value": _arr(out), "x_unchanged": bool(torch.equal(x, _non_contiguous(x_tbc)))}
    if cache is not None:
        report["cache_k"] = _arr(cache.k)
        report["cache_v"] = _arr(cache.v)
    return report


# --------------------------------------------------------------------------- tiny_gpt
def gpt_forward(cfg, weights, idx, start_pos=0, split=None):
    """Student's GPT.forward (reference blocks). split=s: two calls on shared reference caches,
    idx[:, :s] at start_pos 0, then idx[:, s:] at start_pos s; their logits concatenated."""
    with _Swap(_REF_MODULES):
        model = _load(student.GPT(_config(cfg)), weights)
        ids = torch.tensor(np.asarray(idx), dtype=torch.long)
        with torch.no_grad():
            if split is None:
                out = model(ids, start_pos=start_pos) if start_pos else model(ids)
                return {"type": type_name(out), "value": _arr(out)}
            caches = [_RefCache() for _ in range(cfg["n_layer"])]
            first = model(ids[:, :split], caches, start_pos=0)
            second = model(ids[:, split:], caches, start_pos=split)
            return {"first": _arr(first), "second": _arr(second),
                    "cache_lengths": [int(c.length) for c in caches]}


def get_batch(data, batch_size, block_size, seeds):
    """Student's get_batch, once per seed, each with a fresh torch.Generator seeded so."""
    data_t = torch.tensor(np.asarray(data), dtype=torch.long)
    before = data_t.clone()
    draws = []
    for seed in seeds:
        x, y = student.get_batch(data_t, batch_size, block_size, torch.Generator().manual_seed(int(seed)))
        draws.append({"x_type": type_name(x), "y_type": type_name(y),
                      "x_dtype": str(getattr(x, "dtype", "")), "y_dtype": str(getattr(y, "dtype", "")),
                      "x": _arr(x), "y": _arr(y)})
    return {"draws": draws, "data_unchanged": bool(torch.equal(before, data_t))}


def lm_loss(logits, targets, upstream):
    """Student's lm_loss on float64 logits (B, T, V) that require grad; backward with `upstream`."""
    z = torch.tensor(np.asarray(logits), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(np.asarray(targets), dtype=torch.long)
    loss = student.lm_loss(z, y)
    report = {"type": type_name(loss), "shape": list(getattr(loss, "shape", [])) if isinstance(loss, torch.Tensor) else None,
              "value": None, "grad": None, "requires_grad": bool(getattr(loss, "requires_grad", False))}
    if not isinstance(loss, torch.Tensor):
        return report
    report["value"] = float(loss.detach().reshape(-1)[0]) if loss.numel() >= 1 else None
    if loss.numel() == 1 and loss.requires_grad:
        loss.reshape(()).backward(torch.tensor(float(upstream), dtype=loss.dtype))
        report["grad"] = _arr(z.grad)
    return report


def train_run(cfg, init_seed, data, steps, batch_size, lr, data_seed, eval_x):
    """Student's train() on a fresh student GPT (reference blocks), float32 as in the notebook.

    Returns the losses it reported and the trained model's logits on the judge's windows."""
    torch.manual_seed(int(init_seed))
    with _Swap(_REF_MODULES):
        model = student.GPT(_config(cfg))
        before = [p.detach().clone() for p in model.parameters()]
        data_t = torch.tensor(np.asarray(data), dtype=torch.long)
        losses = student.train(model, data_t, int(steps), int(batch_size), float(lr),
                               torch.Generator().manual_seed(int(data_seed)))
        changed = sum(int(not torch.equal(b, p.detach())) for b, p in zip(before, model.parameters()))
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor(np.asarray(eval_x), dtype=torch.long))
    try:
        losses = [float(v) for v in losses]
    except Exception:   # noqa: BLE001 - reported, the judge says what was wrong
        losses = f"<{type(losses).__module__}.{type(losses).__qualname__}>"
    return {"losses": losses, "changed": changed, "n_params": len(before), "logits": _arr(logits)}


# --------------------------------------------------------------------------- kv_cache
def kv_update(chunks):
    """Student's KVCache: update() with each (k, v) chunk in turn; report the returned tensors
    and the cache's length after each call."""
    cache = student.KVCache()
    steps = []
    for k, v in chunks:
        k_t = torch.tensor(np.asarray(k), dtype=torch.float64)
        v_t = torch.tensor(np.asarray(v), dtype=torch.float64)
        out = cache.update(k_t, v_t)
        if not isinstance(out, tuple) or len(out) != 2:
            steps.append({"bad": type_name(out)})
            break
        steps.append({"k": _arr(out[0]), "v": _arr(out[1]), "length": int(cache.length)})
    return steps


def incremental(cfg, weights, idx, prompt_len):
    """Student's incremental_logits with reference modules; also the log of model calls."""
    with _Swap(_REF_MODULES + [("GPT", "forward", _ref_gpt_forward)]):
        model = _load(student.GPT(_config(cfg)), weights)
        del _CALLS[:]
        out = student.incremental_logits(model, torch.tensor(np.asarray(idx), dtype=torch.long), int(prompt_len))
        calls = [list(c) for c in _CALLS]
    return {"type": type_name(out), "value": _arr(out), "calls": calls}


def generate(cfg, weights, idx, n_new):
    """Student's generate (greedy: temperature 0, reference sample_next) with reference modules."""
    with _Swap(_REF_MODULES + [("GPT", "forward", _ref_gpt_forward)], [("sample_next", _ref_sample_next)]):
        model = _load(student.GPT(_config(cfg)), weights)
        del _CALLS[:]
        out = student.generate(model, torch.tensor(np.asarray(idx), dtype=torch.long), int(n_new),
                               temperature=0.0, top_k=None, generator=torch.Generator().manual_seed(0))
        calls = [list(c) for c in _CALLS]
    return {"type": type_name(out), "value": _arr(out), "calls": calls}


# --------------------------------------------------------------------------- sampling
def sample(logits, temperature, top_k, seed, repeats=1):
    """Student's sample_next on float64 logits (B, V), each row repeated `repeats` times
    (so one call draws `repeats` independent samples per row); generator seeded with `seed`."""
    z = torch.tensor(np.asarray(logits), dtype=torch.float64)
    z = z.repeat_interleave(int(repeats), dim=0)
    before = z.clone()
    gen = torch.Generator().manual_seed(int(seed))
    out = student.sample_next(z, temperature=temperature, top_k=top_k, generator=gen)
    return {"type": type_name(out), "dtype": str(getattr(out, "dtype", "")), "value": _arr(out),
            "logits_unchanged": bool(torch.equal(before, z))}
