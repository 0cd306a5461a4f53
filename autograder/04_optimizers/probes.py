"""Probes for 04_optimizers. They run INSIDE the sandbox, next to the student's notebook.

Every graded part is probed in isolation:

  optimizer_path  runs one of the student's update functions (sgd_momentum_update, adam_update,
                  adamw_update) for hundreds of steps on a problem the judge describes (Rosenbrock
                  or a small tanh MLP) and reports the whole trajectory. While adamw_update runs,
                  the notebook's `adam_update` is a stand-in that is NOT Adam (a fixed random
                  step, see _standin_adam), so a mistake in Adam never costs AdamW points; the
                  judge replays the stand-in (the notebook tells students so).
  schedule        the student's warmup_cosine_lr at many steps.
  clip            the student's clip_grad_norm_ on parameters whose gradients the judge chose.
  accumulate      the student's accumulate_gradients on a small torch MLP with a batch-dependent
                  stand-in layer (_HalfCenter): only micro-batch backward passes give the expected grads.
  tf_step/tf_fit  the student's train_step_tf / fit_tf with a model_fn and an optimizer made here.
                  model_fn contains an op with a custom gradient (identity forward, gradient scaled
                  by c backward, counted): only gradients taken with tf.GradientTape through
                  model_fn see the scaling, so the judge can tell a tape from anything else.

The loss functions below are written op for op like the ones in the hidden tests, so the judge's
torch.optim replica sees bit-identical gradients for identical parameters. Probes only run the
student's code and report what it produced (types before any conversion); this file is public and
holds no reference implementation: every expected value is computed in the judge.
"""
import numpy as np
import torch

_MISSING = object()
_PARAM_NAMES = ("W1", "b1", "W2", "b2")


# --------------------------------------------------------------------------- helpers
def _t(a, dtype=torch.float64):
    return torch.tensor(np.array(a), dtype=dtype)


def _strided(t):
    """A copy of t that is not contiguous (every element one slot apart): strides matter."""
    base = torch.zeros(tuple(t.shape) + (2,), dtype=t.dtype)
    view = base[..., 0]
    view.copy_(t)
    return view


def _bytes_of(t):
    """(dtype, shape, bytes) of a tensor as the platform's describe() reads it (C-level facts)."""
    facts = describe(t)
    value = facts.get("value")
    return facts.get("dtype"), tuple(facts.get("shape") or ()), value.tobytes() if value is not None else None


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


def _leaf(value, strided):
    t = _t(value)
    if strided:
        t = _strided(t)
    return t.requires_grad_()


def _num(x):
    """A number the student returned as a Python float, or a short string saying what it was."""
    try:
        a = np.asarray(to_numpy(x), dtype=np.float64)
        if a.size == 1:
            return float(a.reshape(()))
    except Exception:  # noqa: BLE001 - reported to the judge as a description
        pass
    return f"<{type_name(x)}>"


def _type(x):
    return type_name(x)


def _arr(x):
    if x is None:
        return None
    try:
        return np.array(to_numpy(x), dtype=np.float64)
    except Exception:  # noqa: BLE001
        return f"<{type_name(x)}>"


class _Swap:
    """Temporarily put `value` under `name` in the notebook's namespace."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __enter__(self):
        self.saved = getattr(student, self.name) if self.name in student else _MISSING
        setattr(student, self.name, self.value)
        return self

    def __exit__(self, *exc):
        if self.saved is not _MISSING:
            setattr(student, self.name, self.saved)
        return False


# --------------------------------------------------------------------------- stand-in Adam (swap)
def standin_scale(seed, shape, betas, eps):
    """The stand-in adam_update's fixed random step sizes for one parameter shape; they depend on
    betas and eps, so an adamw_update that does not pass its own on is seen (the judge replays it)."""
    rng = np.random.default_rng([int(seed), len(shape), *shape])
    k = rng.uniform(0.2, 0.5, tuple(shape)) * (betas[0] + 2.0 * betas[1] + 1e4 * eps)
    return torch.tensor(k, dtype=torch.float64)


def _standin_adam(seed):
    """NOT Adam: p -= lr * k * tanh(g), with k from standin_scale. adamw_update may call it like
    the notebook's adam_update; the judge computes the path it gives."""
    def adam_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
        p.sub_(lr * standin_scale(seed, tuple(p.shape), tuple(betas), float(eps)) * torch.tanh(g))

    return adam_update


# --------------------------------------------------------------------------- optimizer problems
def _problem(problem, init):
    """Parameters and a loss closure; identical, op for op, to the hidden tests' version."""
    kind = problem["kind"]
    scale = float(problem.get("scale", 1.0))
    if kind == "rosenbrock":
        a, b = float(problem["a"]), float(problem["b"])
        p = _leaf(init, False)

        def loss():
            x, y = p[0], p[1]
            return scale * ((a - x) ** 2 + b * (y - x * x) ** 2)

        return [p], loss
    if kind == "mlp":
        X, Y = _t(problem["X"]), _t(problem["Y"])
        strided = set(problem.get("strided", ()))
        W1, b1, W2, b2 = [_leaf(init[n], n in strided) for n in _PARAM_NAMES]

        def loss():
            h = torch.tanh(X @ W1.T + b1)
            return scale * ((h @ W2.T + b2 - Y) ** 2).mean()

        return [W1, b1, W2, b2], loss
    raise LookupError(f"unknown problem {kind!r}")


def _flat(params):
    return torch.cat([p.detach().reshape(-1) for p in params]).numpy().copy()


_UPDATES = {"sgd_momentum": "sgd_momentum_update", "adam": "adam_update", "adamw": "adamw_update"}


def optimizer_path(which, problem, init, lrs, hyper, seed=0):
    """Minimise the problem with the student's update function, one step per entry of lrs.

    Returns {"path": (len(lrs) + 1, n) float64 array of all parameters flattened after each step,
    row 0 the start, "g_changed": [step, parameter index] of the first call that modified its
    gradient argument g in place, or None}. A student exception propagates (the judge reports it)."""
    update = getattr(student, _UPDATES[which])
    hyper = dict(hyper)
    if "betas" in hyper:
        hyper["betas"] = tuple(hyper["betas"])
    params, loss = _problem(problem, init)
    states = [{} for _ in params]
    path = [_flat(params)]
    g_changed = []        # [step, parameter index] of the first update that changed its g in place

    def run():
        for step, lr in enumerate(lrs, start=1):
            for p in params:          # zero_grad(set_to_none=False): the same grad tensors every step,
                if _grad_of(p) is not None:  # so a state buffer that aliases g is caught
                    _grad_of(p).zero_()
            loss().backward()
            with torch.no_grad():
                for i, (p, state) in enumerate(zip(params, states)):
                    g = _grad_of(p)
                    g_before = _bytes_of(g)
                    update(p, g, state, float(lr), **hyper)
                    # torch.optim leaves p.grad as it is; the zero_() above would hide a change.
                    # Compared as the platform's describe() reads it (torch.equal may be patched).
                    if not g_changed and _bytes_of(g) != g_before:
                        g_changed[:] = [step, i]
            path.append(_flat(params))

    if which == "adamw":
        with _Swap("adam_update", _standin_adam(seed)):
            run()
    else:
        run()
    return {"path": np.stack(path), "g_changed": g_changed or None}


# --------------------------------------------------------------------------- schedule
def schedule(steps, base_lr, warmup_steps, total_steps, min_lr=None):
    """The student's warmup_cosine_lr at every step of `steps` (min_lr None: left at its default)."""
    values, types = [], []
    for s in steps:
        if min_lr is None:
            lr = student.warmup_cosine_lr(int(s), base_lr, warmup_steps, total_steps)
        else:
            lr = student.warmup_cosine_lr(int(s), base_lr, warmup_steps, total_steps, min_lr=min_lr)
        types.append(type_name(lr))
        value = _num(lr)
        if type(value) is str:
            return {"values": None, "bad": value, "at": int(s), "types": types}
        values.append(value)
    return {"values": np.array(values, dtype=np.float64), "bad": None, "at": None, "types": types}


# --------------------------------------------------------------------------- clipping
def clip(entries, max_norm, as_generator=False):
    """entries: [{"shape": [...], "grad": array or None, "strided": bool}, ...] -> the student's
    clip_grad_norm_ on fresh parameters with those gradients; reports its return value and the grads."""
    params = []
    for entry in entries:
        p = torch.zeros(tuple(entry["shape"]), dtype=torch.float64, requires_grad=True)
        if entry["grad"] is not None:
            g = _t(entry["grad"]).reshape(tuple(entry["shape"]))
            p.grad = _strided(g) if entry.get("strided") else g
        params.append(p)
    total = student.clip_grad_norm_(iter(params) if as_generator else params, max_norm)
    return {"total": _num(total), "total_type": type_name(total), "grads": [_arr(_grad_of(p)) for p in params]}


# --------------------------------------------------------------------------- accumulation
class _HalfCenter(torch.autograd.Function):
    """h - mean(h over the batch) / 2: each sample's output depends on the batch it came in with
    (a batch norm without parameters, halved so a batch of one is not sent to zero). A full-batch
    backward therefore gives other gradients than the n_k / N-weighted micro-batch sum the contract
    asks for. backward runs in the autograd engine, so its log shows the batches gradients really
    flowed through, whatever route the student's code took to call the model. Forwards and
    backwards go into ONE list, in the order they ran: one backward over the sum of every
    micro-batch's loss gives the same gradients, and only the order shows the graphs were all kept."""

    @staticmethod
    def forward(ctx, h, log):
        ctx.log = log
        log.append(("forward", int(h.shape[0])))
        return h - 0.5 * h.mean(0, keepdim=True)

    @staticmethod
    def backward(ctx, g):
        ctx.log.append(("backward", int(g.shape[0])))
        return g - 0.5 * g.mean(0, keepdim=True), None


class _HalfCenterLayer(torch.nn.Module):
    def __init__(self, log):
        super().__init__()
        self.log = log

    def forward(self, h):
        return _HalfCenter.apply(h, self.log)


def accumulate(weights, X, Y, loss_kind, micro_batch_size, stale=False, strided_x=False):
    """The student's accumulate_gradients on Linear -> Tanh -> HalfCenter -> Linear (float64, the
    given weights). Reports the returned loss, every parameter's .grad and the stand-in layer's
    forwards and backwards in the order they ran, as [kind, batch size] (the judge computes the
    expected micro-batch gradients and decides whether the order keeps to the contract)."""
    W1, b1, W2, b2 = (np.array(weights[n]) for n in _PARAM_NAMES)
    log = []
    model = torch.nn.Sequential(torch.nn.Linear(W1.shape[1], W1.shape[0]), torch.nn.Tanh(), _HalfCenterLayer(log),
                                torch.nn.Linear(W2.shape[1], W2.shape[0])).double()
    with torch.no_grad():
        for p, value in zip(model.parameters(), (W1, b1, W2, b2)):
            p.copy_(_t(value))
    if stale:                             # gradients left over from an earlier step
        for p in model.parameters():
            p.grad = torch.full_like(p, 7.0)
    x = _t(X)
    if strided_x:
        x = _strided(x)
    if loss_kind == "mse":
        y, loss_fn = _t(Y), torch.nn.functional.mse_loss
    else:
        y, loss_fn = _t(Y, torch.int64), torch.nn.functional.cross_entropy
    loss = student.accumulate_gradients(model, loss_fn, x, y, int(micro_batch_size))
    return {"loss": _num(loss), "loss_type": type_name(loss), "grads": [_arr(_grad_of(p)) for p in model.parameters()],
            "events": [[str(kind), int(size)] for kind, size in log],
            "x_after": describe(x)}   # "untouched": the judge decides (torch.equal may be patched)


# --------------------------------------------------------------------------- TensorFlow loop
def _tf_model(weights, c):
    import tensorflow as tf

    variables = [tf.Variable(np.array(weights[n], dtype=np.float64), name=n) for n in _PARAM_NAMES]
    W1, b1, W2, b2 = variables
    counter = tf.Variable(0, dtype=tf.int64, trainable=False)

    @tf.custom_gradient
    def marked(h):
        def grad(dy):
            counter.assign_add(1)
            return dy * c

        return tf.identity(h), grad

    def model_fn(x):
        return tf.matmul(marked(tf.tanh(tf.matmul(x, W1) + b1)), W2) + b2

    return model_fn, variables, counter


class _ProbeSGD:
    """Plain SGD with the interface of a Keras optimizer: apply_gradients and learning_rate."""

    def __init__(self, lr):
        import tensorflow as tf

        self._lr = tf.Variable(float(lr), dtype=tf.float64, trainable=False)
        self.calls = 0

    @property
    def learning_rate(self):
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr.assign(float(to_numpy(value)))

    def apply_gradients(self, grads_and_vars):
        pairs = list(grads_and_vars)
        for g, v in pairs:
            if g is None:
                raise ValueError(f"apply_gradients got None as the gradient of {v.name}: was the loss computed "
                                 "inside the tf.GradientTape block, from model_fn(x)?")
        for g, v in pairs:
            v.assign_sub(self._lr * g)
        self.calls += 1


def _tf_report(variables, counter, opt):
    return {"vars": [v.numpy().copy() for v in variables], "tape_calls": int(counter.numpy()),
            "applies": int(opt.calls)}


def tf_step(weights, X, Y, lr, c):
    """One train_step_tf with a plain SGD optimizer of learning rate lr."""
    import tensorflow as tf

    model_fn, variables, counter = _tf_model(weights, c)
    opt = _ProbeSGD(lr)
    loss = student.train_step_tf(model_fn, variables, tf.constant(np.array(X)), tf.constant(np.array(Y)), opt)
    return {"loss": _num(loss), "loss_type": type_name(loss), **_tf_report(variables, counter, opt)}


def tf_fit(weights, X, Y, lr0, steps, c, lrs=None):
    """fit_tf for `steps` steps; with lrs, lr_fn(step) = lrs[step] (the calls are recorded)."""
    import tensorflow as tf

    model_fn, variables, counter = _tf_model(weights, c)
    opt = _ProbeSGD(lr0)
    asked = []

    def lr_fn(step):
        asked.append(int(step))
        return lrs[int(step)]

    losses = student.fit_tf(model_fn, variables, tf.constant(np.array(X)), tf.constant(np.array(Y)), opt,
                            int(steps), **({"lr_fn": lr_fn} if lrs is not None else {}))
    try:
        values = [_num(v) for v in losses]
    except TypeError:
        values = f"<{type_name(losses)}>"
    if type(values) is list and any(type(v) is str for v in values):
        values = f"a list holding {next(v for v in values if type(v) is str)}"
    elif type(values) is list:
        values = np.array(values, dtype=np.float64)
    return {"losses": values, "asked": asked, **_tf_report(variables, counter, opt)}
