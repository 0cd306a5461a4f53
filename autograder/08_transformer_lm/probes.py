"""Probes for 08_transformer_lm. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation, with STAND-INS for the pieces that are not under test.
A stand-in is never a solution: it is another function whose result the judge computes itself,
or a table of values the judge computed for the test's own inputs only.

  decoder_block  the student's CausalSelfAttention.forward, MLP.forward and Block.forward. With a
                 cache, the cache is a table stand-in: update() records what it is given and
                 returns the keys and values the judge computed for this test (past + new).
  tiny_gpt       the student's GPT.forward, get_batch, lm_loss and train, with a stand-in
                 Block.forward (one head, tanh MLP: not the notebook's block); table caches.
  kv_cache       the student's KVCache, incremental_logits and generate, with a stand-in
                 Block.forward and a stand-in GPT.forward (half the position embedding, no ln_f:
                 not the notebook's GPT) that logs every call (tokens fed, start_pos), and a
                 stand-in sample_next (argmax of logits + a bias the judge sends: not greedy).
                 Each token fed also gets half the embedding of its call's start_pos, so logits
                 depend on the call route (prefill + one-token calls), not only on the tokens: a
                 full forward gives other logits. Each decoding case runs twice, KVCache's methods
                 swapped both times by the same wrappers: once calling the student's own, once
                 "planted", calling table caches holding keys/values the judge chose (not the
                 model's), so only logits that come from the calls with the caches are right.
  sampling       the student's sample_next only.

Weights come from the judge as arrays (a state_dict by name); models run in float64 so that the
judge's float64 reference can be compared tightly. Results are described BEFORE any conversion
(type, dtype, shape, requires_grad, device); every expected value is computed by the hidden tests
in the judge process.
"""
import math

import numpy as np
import torch

_MISSING = object()
_MRO = type.__dict__["__mro__"].__get__   # a class's real bases: no __instancecheck__ to answer for it


# --------------------------------------------------------------------------- stand-ins
def _stand_in_block_forward(self, x, cache=None):
    """NOT the notebook's block: ONE attention head of width C, then a tanh MLP (pre-norm)."""
    B, T, C = x.shape
    q, k, v = self.attn.qkv(self.ln1(x)).split(C, dim=-1)
    q, k, v = q[:, None], k[:, None], v[:, None]                 # (B, 1, T, C)
    if cache is not None:
        k, v = cache.update(k, v)
    S = k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(C)
    future = torch.arange(S)[None, :] > torch.arange(S - T, S)[:, None]
    y = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v
    x = x + self.attn.proj(y[:, 0])
    return x + self.mlp.proj(torch.tanh(self.mlp.fc(self.ln2(x))))


_CALLS = []   # (tokens fed, start_pos, caches given) for every stand-in GPT.forward call


def _stand_in_gpt_forward(self, idx, caches=None, start_pos=0):
    """NOT the notebook's GPT: half the position embedding plus half that of start_pos (the call's
    mark), no final LayerNorm. Logs the call."""
    B, T = idx.shape
    _CALLS.append((int(T), int(start_pos), caches is not None))
    if start_pos + T > self.cfg.block_size:
        raise ValueError(f"positions {start_pos}..{start_pos + T - 1} exceed block_size {self.cfg.block_size}")
    # the call's own mark: every token fed in this call also gets half the embedding of start_pos,
    # so a position's logits depend on the call that computed it (prefill: 0, one-token call at
    # position t: t). Logits of a full forward without the cache route are NOT the right ones.
    x = (self.tok_emb(idx) + 0.5 * self.pos_emb(torch.arange(start_pos, start_pos + T))
         + 0.5 * self.pos_emb(torch.tensor([start_pos]))[None])
    for i, block in enumerate(self.blocks):
        x = block(x, None if caches is None else caches[i])
    return self.head(x)


class _StandInSampler:
    """NOT greedy sampling: argmax(logits + bias) for the judge's bias. Counts its calls."""

    def __init__(self, bias):
        self.bias = torch.tensor(np.asarray(bias), dtype=torch.float64)
        self.calls = 0

    def __call__(self, logits, temperature=1.0, top_k=None, generator=None):
        self.calls += 1
        return torch.argmax(logits.to(torch.float64) + self.bias, dim=-1)


class _TableCache:
    """A KV cache that knows only this test's answer: update() records the (k, v) it is given and
    returns the first `length` positions of the keys and values the judge computed."""

    def __init__(self, k_all, v_all, cached=0):
        self.k_all = torch.tensor(np.asarray(k_all), dtype=torch.float64)
        self.v_all = torch.tensor(np.asarray(v_all), dtype=torch.float64)
        self.length = int(cached)           # positions already in the cache before the test
        self.given = []

    @property
    def k(self):
        return self.k_all[..., :self.length, :] if self.length else None

    @property
    def v(self):
        return self.v_all[..., :self.length, :] if self.length else None

    def update(self, k_new, v_new):
        self.given.append((k_new, v_new))
        shape = describe(k_new).get("shape") or []
        self.length += int(shape[-2]) if len(shape) >= 2 else 0
        if self.length > self.k_all.shape[-2]:
            raise ValueError(f"the grader's stand-in KVCache holds {self.k_all.shape[-2]} positions; "
                             f"update() was asked to hold {self.length}")
        return self.k_all[..., :self.length, :], self.v_all[..., :self.length, :]


_CACHE_ATTRS = ("__init__", "update", "length", "k", "v")


def _cache_methods(backend):
    """KVCache's __init__, update, length, k and v as installed in BOTH decoding runs: the same
    functions and kinds (a property for each field) whichever backend they call, so the class's
    dict tells a notebook nothing about which run it is in; only the values differ."""
    def __init__(cache, *args, **kwargs):
        backend.init(cache, args, kwargs)

    def update(cache, k_new, v_new):
        return backend.update(cache, k_new, v_new)

    def field(name):
        return property(lambda cache: backend.get(cache, name),
                        lambda cache, value: backend.set(cache, name, value))

    return ([("KVCache", "__init__", __init__), ("KVCache", "update", update)]
            + [("KVCache", name, field(name)) for name in ("length", "k", "v")])


def _get(descriptor, cache, cls):
    return type(descriptor).__get__(descriptor, cache, cls) if hasattr(type(descriptor), "__get__") else descriptor


class _OwnKVCache:
    """The normal run's backend: the notebook's own KVCache methods and fields, as they were before
    the swap (class attributes first if they are data descriptors, then the instance's dict, then
    the class's, inherited ones included)."""

    def __init__(self):
        self.cls = student.KVCache
        self.own = {name: self.cls.__dict__.get(name, _MISSING) for name in _CACHE_ATTRS}

    def _attr(self, name):
        if self.own[name] is not _MISSING:
            return self.own[name]
        for base in _MRO(self.cls)[1:]:
            if name in base.__dict__:
                return base.__dict__[name]
        return _MISSING

    def _method(self, cache, name):
        fn = self._attr(name)
        if fn is _MISSING:
            raise AttributeError(f"'{self.cls.__name__}' object has no attribute '{name}'")
        return _get(fn, cache, self.cls)

    def init(self, cache, args, kwargs):
        self._method(cache, "__init__")(*args, **kwargs)

    def update(self, cache, k_new, v_new):
        return self._method(cache, "update")(k_new, v_new)

    def get(self, cache, name):
        attr = self._attr(name)
        if attr is not _MISSING and hasattr(type(attr), "__set__"):
            return _get(attr, cache, self.cls)
        own = getattr(cache, "__dict__", None)
        if type(own) is dict and name in own:
            return own[name]
        if attr is _MISSING:
            raise AttributeError(f"'{self.cls.__name__}' object has no attribute '{name}'")
        return _get(attr, cache, self.cls)

    def set(self, cache, name, value):
        attr = self._attr(name)
        if attr is not _MISSING and hasattr(type(attr), "__set__"):
            type(attr).__set__(attr, cache, value)
        else:
            cache.__dict__[name] = value


class _PlantedKVCache:
    """The planted run's backend: the i-th cache made (layer i, as the contract says: a new KVCache
    per layer) is a table cache holding the judge's keys/values for layer i, which are NOT the ones
    the model computes. Logits that come from calls with these caches follow the judge's tables;
    logits computed any other way (a full forward without caches) do not. Caches made beyond one
    per layer hold the tables negated, so a second set of fresh caches gives other values too."""

    def __init__(self, k_tables, v_tables):
        self.tables = list(zip(k_tables, v_tables))
        self.made = []            # (cache object, its _TableCache), in the order they were made

    def init(self, cache, args, kwargs):
        i = len(self.made)
        k, v = self.tables[i % len(self.tables)]
        sign = 1.0 if i < len(self.tables) else -1.0
        self.made.append((cache, _TableCache(sign * np.asarray(k), sign * np.asarray(v))))

    def _of(self, cache):
        for obj, table in self.made:
            if obj is cache:
                return table
        raise ValueError("this KVCache was not made by KVCache() during the call")

    def update(self, cache, k_new, v_new):
        return self._of(cache).update(k_new, v_new)

    def get(self, cache, name):
        return getattr(self._of(cache), name)

    def set(self, cache, name, value):
        own = getattr(cache, "__dict__", None)
        if type(own) is dict:
            own[name] = value    # kept, never read back: the table answers


class _Swap:
    """Temporarily replace class attributes (methods) and notebook globals by stand-ins."""

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


_STAND_IN_BLOCK = [("Block", "forward", _stand_in_block_forward)]


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


def _genuine_tensor(facts) -> bool:
    return bool(facts.get("exact")) and facts.get("type") in ("torch.Tensor", "torch.nn.parameter.Parameter")


def _arr(x):
    """A tensor as a float64 / int64 array, or a string saying what it was instead. Read from the
    platform's describe() (its copy of the values), never through the object's own methods."""
    if x is None:
        return "None"
    facts = describe(x)
    value = facts.get("value")
    if not _genuine_tensor(facts) or type(value) is not np.ndarray or value.dtype.kind not in "biuf":
        return f"<{facts.get('type')}>"
    return value.astype(np.int64) if value.dtype.kind in "iu" else value.astype(np.float64)


def _about(x, inputs=()):
    """What came back, read by the platform's describe() BEFORE any conversion (C-level facts: a
    cell that patches torch, or a Tensor subclass that lies, changes nothing here): type, dtype
    ("torch.int64"; None unless a genuine tensor), shape, requires_grad, device, and which inputs
    (by position) share its memory. The judge decides every property from this."""
    facts = describe(x, inputs={str(i): t for i, t in enumerate(inputs)})
    info = {"type": facts.get("type"), "dtype": None, "shape": None, "requires_grad": None, "device": None,
            "aliases": []}
    if _genuine_tensor(facts):
        info.update(dtype="torch." + facts["dtype"], shape=list(facts["shape"]), requires_grad=facts["requires_grad"],
                    device=facts["device"], aliases=[int(a) for a in facts.get("aliases") or []])
    return info


def _own_parameters(module):
    """Names of the module's distinct parameters (a tied weight once, as module.parameters()),
    read from the modules' own dicts, not named_parameters(), which a notebook can override."""
    names, seen = [], []

    def walk(m, prefix):
        own = vars(m)
        params, children = own.get("_parameters"), own.get("_modules")
        if type(params) is dict:
            for name, p in params.items():
                if p is not None and not any(p is q for q in seen):
                    seen.append(p)
                    names.append(prefix + name)
        if type(children) is dict:
            for name, child in children.items():
                if child is not None:
                    walk(child, prefix + name + ".")
    walk(module, "")
    return names


def _non_contiguous(x):
    """x arrives as (T, B, C); the student gets the (B, T, C) view, which is not contiguous."""
    t = torch.tensor(np.asarray(x), dtype=torch.float64)
    return t.permute(1, 0, 2)


# --------------------------------------------------------------------------- decoder_block
def module_forward(which, cfg, weights, x_tbc, k_all=None, v_all=None, cached=0):
    """Student's CausalSelfAttention / MLP / Block on a non-contiguous (B, T, C) float64 input.

    With k_all/v_all (B, H, P + T, hd) a table cache holding P = `cached` positions is passed as
    `cache`: it returns them and reports the (k, v) the student's attention gave to update()."""
    cls = {"attn": "CausalSelfAttention", "mlp": "MLP", "block": "Block"}[which]
    module = _load(getattr(student, cls)(_config(cfg)), weights)
    x = _non_contiguous(x_tbc)
    cache = None if k_all is None else _TableCache(k_all, v_all, cached)
    with torch.no_grad():
        out = module(x) if cache is None else module(x, cache)
    about = _about(out, [x])
    report = {"type": about["type"], "about": about, "value": _arr(out),
              "x_after": describe(x)}   # "unchanged": the judge decides
    if cache is not None:
        report["updates"] = [[_arr(k), _arr(v)] for k, v in cache.given]
    return report


# --------------------------------------------------------------------------- tiny_gpt
def gpt_forward(cfg, weights, idx, start_pos=0, split=None, k_all=None, v_all=None):
    """Student's GPT.forward (stand-in blocks). split=s: two calls on table caches (k_all[i],
    v_all[i] for layer i), idx[:, :s] at start_pos 0, then idx[:, s:] at start_pos s."""
    with _Swap(_STAND_IN_BLOCK):
        model = _load(student.GPT(_config(cfg)), weights)
        ids = torch.tensor(np.asarray(idx), dtype=torch.long)
        with torch.no_grad():
            if split is None:
                out = model(ids, start_pos=start_pos) if start_pos else model(ids)
                about = _about(out)
                return {"type": about["type"], "about": about, "value": _arr(out)}
            caches = [_TableCache(k, v) for k, v in zip(k_all, v_all)]
            first = model(ids[:, :split], caches, start_pos=0)
            second = model(ids[:, split:], caches, start_pos=split)
            return {"first": _arr(first), "second": _arr(second),
                    "cache_lengths": [int(c.length) for c in caches]}


def get_batch(data, batch_size, block_size, seeds):
    """Student's get_batch, once per seed, each with a fresh torch.Generator seeded so."""
    data_t = torch.tensor(np.asarray(data), dtype=torch.long)
    draws = []
    for seed in seeds:
        x, y = student.get_batch(data_t, batch_size, block_size, torch.Generator().manual_seed(int(seed)))
        x_about, y_about = _about(x, [data_t]), _about(y, [data_t])
        draws.append({"x_about": x_about, "y_about": y_about, "x_type": x_about["type"], "y_type": y_about["type"],
                      "x_dtype": str(x_about["dtype"] or ""), "y_dtype": str(y_about["dtype"] or ""),
                      "x": _arr(x), "y": _arr(y)})
    return {"draws": draws, "data_after": describe(data_t)}   # "unchanged": the judge decides


def lm_loss(logits, targets, upstream):
    """Student's lm_loss on float64 logits (B, T, V) that require grad; backward with `upstream`."""
    z = torch.tensor(np.asarray(logits), dtype=torch.float64, requires_grad=True)
    y = torch.tensor(np.asarray(targets), dtype=torch.long)
    loss = student.lm_loss(z, y)
    about = _about(loss, [z, y])
    report = {"about": about, "type": about["type"], "shape": about["shape"], "value": None, "grad": None,
              "requires_grad": bool(about["requires_grad"])}
    value = _arr(loss)
    if type(value) is not np.ndarray:
        return report
    report["value"] = float(value.reshape(-1)[0]) if value.size >= 1 else None
    if value.size == 1 and about["requires_grad"]:
        loss.reshape(()).backward(torch.tensor(float(upstream), dtype=loss.dtype))
        report["grad"] = _arr(torch._C.TensorBase.__dict__["grad"].__get__(z))   # not a shadowable z.grad
    return report


class _RecordBatches:
    """Wraps the student's own get_batch (train calls it by name) and keeps the batches it drew
    (the first `keep` of them)."""

    def __init__(self, own, keep=1):
        self.own, self.keep, self.batches = own, keep, []

    def __call__(self, *args, **kwargs):
        out = self.own(*args, **kwargs)
        if len(self.batches) < self.keep and type(out) in (tuple, list) and len(out) == 2:
            self.batches.append([_arr(out[0]), _arr(out[1])])
        return out


def _state(model):
    """The state_dict's values as float64 arrays, read through describe()."""
    return {k: _arr(v) for k, v in model.state_dict().items()}


def _as_floats(losses):
    try:
        return [float(v) for v in losses]
    except Exception:   # noqa: BLE001 - reported, the judge says what was wrong
        return f"<{type(losses).__module__}.{type(losses).__qualname__}>"


def train_run(cfg, init_seed, data, steps, batch_size, lr, data_seed, eval_x, split, repeat_steps):
    """Student's train() on a fresh student GPT (stand-in blocks), float32 as in the notebook.

    Reports the losses it returned, the initial and trained weights, the first batch its
    get_batch drew, the trained model's logits on the judge's windows (whole, and the positions
    from `split` on fed alone at start_pos=split), and a second run of `repeat_steps` steps from
    the same initial weights and generator seed (the global RNG left as it is): its losses, the
    batches it drew and its weights afterwards, for the judge to replay AdamW on them."""
    data_t = torch.tensor(np.asarray(data), dtype=torch.long)
    record = _RecordBatches(student.get_batch)
    again_record = _RecordBatches(student.get_batch, keep=int(repeat_steps))
    with _Swap(_STAND_IN_BLOCK, [("get_batch", record)]):
        torch.manual_seed(int(init_seed))
        model = student.GPT(_config(cfg))
        initial = _state(model)
        params = _own_parameters(model)   # the judge compares initial[name] with trained[name]
        losses = student.train(model, data_t, int(steps), int(batch_size), float(lr),
                               torch.Generator().manual_seed(int(data_seed)))
        model.eval()
        ids = torch.tensor(np.asarray(eval_x), dtype=torch.long)
        with torch.no_grad():
            logits = model(ids)
            tail = model(ids[:, int(split):], start_pos=int(split))
        trained = _state(model)
        again = student.GPT(_config(cfg))
        again.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in initial.items()})
    with _Swap(_STAND_IN_BLOCK, [("get_batch", again_record)]):
        repeat = student.train(again, data_t, int(repeat_steps), int(batch_size), float(lr),
                               torch.Generator().manual_seed(int(data_seed)))
    return {"losses": _as_floats(losses), "repeat": _as_floats(repeat), "params": params,
            "logits": _arr(logits), "tail_logits": _arr(tail), "initial": initial, "trained": trained,
            "first_batch": record.batches[0] if record.batches else None,
            "repeat_batches": again_record.batches, "repeat_state": _state(again)}


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
        if tuple not in _MRO(type(out)) or len(out) != 2:
            steps.append({"bad": type_name(out)})
            break
        steps.append({"k": _arr(out[0]), "v": _arr(out[1]), "length": int(cache.length)})
    return steps


def _planted(planted):
    """KVCache's methods, swapped in every decoding run: the notebook's own behind them, or in a
    planted run the judge's table caches."""
    return _cache_methods(_OwnKVCache() if planted is None else _PlantedKVCache(*planted))


def incremental(cfg, weights, idx, prompt_len, planted=None):
    """Student's incremental_logits with stand-in blocks and GPT.forward; also the log of model calls.
    planted = (k tables, v tables), one (B, 1, S, C) pair per layer: KVCache is _PlantedKVCache."""
    with _Swap(_STAND_IN_BLOCK + [("GPT", "forward", _stand_in_gpt_forward)] + _planted(planted)):
        model = _load(student.GPT(_config(cfg)), weights)
        del _CALLS[:]
        out = student.incremental_logits(model, torch.tensor(np.asarray(idx), dtype=torch.long), int(prompt_len))
        calls = [list(c) for c in _CALLS]
    about = _about(out)
    return {"type": about["type"], "about": about, "value": _arr(out), "calls": calls}


def generate(cfg, weights, idx, n_new, bias, planted=None):
    """Student's generate (temperature 0) with stand-in blocks, GPT.forward and sample_next
    (planted: as in incremental)."""
    sampler = _StandInSampler(bias)
    with _Swap(_STAND_IN_BLOCK + [("GPT", "forward", _stand_in_gpt_forward)] + _planted(planted),
               [("sample_next", sampler)]):
        model = _load(student.GPT(_config(cfg)), weights)
        del _CALLS[:]
        ids = torch.tensor(np.asarray(idx), dtype=torch.long)
        out = student.generate(model, ids, int(n_new),
                               temperature=0.0, top_k=None, generator=torch.Generator().manual_seed(0))
        calls = [list(c) for c in _CALLS]
    about = _about(out, [ids])
    return {"type": about["type"], "about": about, "value": _arr(out), "calls": calls,
            "sampler_calls": sampler.calls}


# --------------------------------------------------------------------------- sampling
def sample(logits, temperature, top_k, seed, repeats=1):
    """Student's sample_next on float64 logits (B, V), each row repeated `repeats` times
    (so one call draws `repeats` independent samples per row); generator seeded with `seed`."""
    z = torch.tensor(np.asarray(logits), dtype=torch.float64)
    z = z.repeat_interleave(int(repeats), dim=0)
    gen = torch.Generator().manual_seed(int(seed))
    out = student.sample_next(z, temperature=temperature, top_k=top_k, generator=gen)
    about = _about(out, [z])
    return {"about": about, "type": about["type"], "dtype": str(about["dtype"] or ""), "value": _arr(out),
            "logits_after": describe(z)}   # "unchanged": the judge decides
