"""Probes for 14_diffusion. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`, `describe`.

Every probe receives plain NumPy data from the judge, builds the torch tensors the exercise asks
for (dtype and memory layout chosen by the judge: contiguous, a channels-last image batch seen as
(B, C, H, W), a transposed view, or every other row of a taller tensor whose gaps hold junk),
calls the student's function and reports plain data: what came back, read by the platform's
describe() (kind, dtype, shape, requires_grad, aliases, then float64 values), gradients where asked,
and the inputs as describe() reads them after the call. Nothing is decided here (a notebook cell
may patch torch.equal or return a lying Tensor subclass): the hidden tests compare in the judge.

The small noise predictors handed to the student's ddpm_loss / ddim_sample / guided_eps are
rebuilt here from the judge's parameter arrays; the tests evaluate the same formula in float64.

Part isolation: ddpm_loss is probed with a stand-in under the name q_sample for the duration of
the call: NOT q_sample, but a random per-step linear map a[t] x0 + b[t] noise whose coefficients
the judge drew for that test, so a mistake in part forward_process never costs points in part
ddpm_loss (the notebook tells students so) and nothing here computes a graded answer. ddim_sample uses the student's ddim_step and
guided_eps the student's cfg_combine: those pairs belong to one part each.
"""
import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}
_MISSING = object()


# --------------------------------------------------------------------------- building inputs
def _tensor(spec, requires_grad=False):
    """A torch tensor from {"value": array, "dtype": name, "layout": name}.

    layouts: "contiguous"; "channels_last": a (B, C, H, W) view of a tensor stored as (B, H, W, C);
    "transposed": a 2-D (B, D) view of a tensor stored as (D, B); "strided": every other entry along
    axis 0 of a tensor twice as long, whose gaps hold junk (NaN, or a huge int for int64).
    """
    if spec is None:
        return None
    value = np.asarray(spec["value"])
    dtype = _DTYPES[spec.get("dtype", "float64")]
    layout = spec.get("layout", "contiguous")
    if layout == "contiguous":
        t = torch.tensor(value, dtype=dtype)
    elif layout == "channels_last":
        t = torch.tensor(np.ascontiguousarray(np.moveaxis(value, 1, -1)), dtype=dtype).permute(0, 3, 1, 2)
    elif layout == "transposed":
        t = torch.tensor(np.ascontiguousarray(value.T), dtype=dtype).T
    elif layout == "strided":
        full = np.empty((2 * value.shape[0],) + value.shape[1:], dtype=value.dtype if dtype == torch.int64 else np.float64)
        full[1::2] = 10 ** 9 if dtype == torch.int64 else np.nan
        full[::2] = value
        t = torch.tensor(full, dtype=dtype)[::2]
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if requires_grad:
        t.requires_grad_(True)
    return t


def _describe(obj, inputs=None):
    """kind / dtype / shape / requires_grad / aliases (input names it shares memory with) of a
    returned object, read by the platform's describe() BEFORE any conversion; then its values as
    float64. Every fact comes from describe (C-level reads captured before the notebook ran), never
    from the object itself: a cell may patch torch, or return a Tensor subclass that lies about its
    dtype or requires_grad (a subclass is reported under its own type name, not as "torch")."""
    d = describe(obj, inputs)
    tensor = d.get("type") == "torch.Tensor" and d.get("exact") is True
    info = {"kind": "torch" if tensor else d["type"], "dtype": None, "shape": None,
            "value": None, "requires_grad": False, "aliases": list(d.get("aliases") or [])}
    if tensor:
        info["dtype"], info["shape"], info["requires_grad"] = d["dtype"], d["shape"], d["requires_grad"] is True
        value = d.get("value")
        if type(value) is not np.ndarray or value.dtype.kind not in "fiu":   # bool, complex: no numbers to compare
            return info
        v = value.astype(np.float64)
        info["value"] = float(v) if v.ndim == 0 else v
    elif d["type"] in _NUMBER_TYPES and d.get("value") is not None:
        info["value"] = float(d["value"])
        info["shape"] = []
    return info


# Python and NumPy numbers a function may return instead of a 0-d tensor (bool excluded: not a number).
_NUMBER_TYPES = {"builtins.float", "builtins.int", "numpy.float64", "numpy.float32", "numpy.int64", "numpy.int32"}


def _after(**tensors):
    """The inputs as they are after the call, read by describe(); the judge decides whether they
    still hold what it sent (course.judge.described.unchanged): torch.equal or clone may be patched here."""
    return {name: describe(t) for name, t in tensors.items() if t is not None}


def _grad_of(t):
    """t.grad read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)."""
    return torch._C.TensorBase.__dict__["grad"].__get__(t)


def _steps_of(t, batch):
    """The per-sample steps a model received, as an int64 tensor (B,); lenient about ints and 0-d tensors."""
    tt = torch.as_tensor(t)
    if tt.dim() == 0:
        tt = tt.expand(batch)
    return tt.reshape(-1)


# --------------------------------------------------------------------------- toy noise predictors
class _ToyEps:
    """eps(x, t) = tanh(flat(x) @ W1 + b1 + (t / t_scale) * wt) @ W2, reshaped like x (float64 parameters).

    Records the steps it was called with (first sample's step) so the judge can explain a wrong loop.
    """

    def __init__(self, params, t_scale, requires_grad=False):
        self.p = {k: torch.tensor(np.asarray(params[k]), dtype=torch.float64, requires_grad=requires_grad)
                  for k in ("W1", "b1", "wt", "W2")}
        self.t_scale = float(t_scale)
        self.steps = []

    def hidden(self, x, t):
        B = x.shape[0]
        tt = _steps_of(t, B)
        self.steps.append(int(tt[0]) if tt.numel() else None)
        flat = x.reshape(B, -1).to(torch.float64)
        return flat @ self.p["W1"] + self.p["b1"] + (tt.to(torch.float64) / self.t_scale)[:, None] * self.p["wt"]

    def out(self, h, x):
        return (torch.tanh(h) @ self.p["W2"]).reshape(x.shape).to(x.dtype)

    def __call__(self, x, t):
        return self.out(self.hidden(x, t), x)


class _ToyCondEps(_ToyEps):
    """eps(x, t, y) = tanh(flat(x) @ W1 + b1 + (t / t_scale) * wt + E[y]) @ W2 (E has one row per label, null included)."""

    def __init__(self, params, t_scale):
        super().__init__(params, t_scale)
        self.E = torch.tensor(np.asarray(params["E"]), dtype=torch.float64)
        self.labels = []

    def __call__(self, x, t, y):
        yy = torch.as_tensor(y)
        if yy.dim() == 0:
            yy = yy.expand(x.shape[0])
        self.labels.append([int(v) for v in yy.reshape(-1).tolist()])
        return self.out(self.hidden(x, t) + self.E[yy.reshape(-1).long()], x)


# --------------------------------------------------------------------------- part forward_process
def linear(T, kwargs=None):
    return _describe(student.linear_beta_schedule(int(T), **(kwargs or {})))


def cosine(T, kwargs=None):
    return _describe(student.cosine_beta_schedule(int(T), **(kwargs or {})))


def q_sample(x0, t, noise, betas):
    tx0, tt, tn, tb = _tensor(x0), _tensor(t), _tensor(noise), _tensor(betas)
    out = student.q_sample(tx0, tt, tn, tb)
    return {"out": _describe(out, {"x0": tx0, "noise": tn}), "inputs_after": _after(x0=tx0, t=tt, noise=tn, betas=tb)}


# --------------------------------------------------------------------------- part ddpm_loss
class _StandInQSample:
    """Not q_sample: x_t = a[t] * x0 + b[t] * noise with coefficients the judge drew at random for
    this test only (unrelated to betas). Swapped in under the notebook's name `q_sample` while
    ddpm_loss is probed, so a mistake in part forward_process never costs points in part ddpm_loss;
    the judge computes what the loss must be with the same coefficients. Records its calls."""

    def __init__(self, a, b):
        self.a = torch.tensor(np.asarray(a), dtype=torch.float64)
        self.b = torch.tensor(np.asarray(b), dtype=torch.float64)
        self.calls = 0

    def __call__(self, x0, t, noise, betas):
        self.calls += 1
        idx = torch.as_tensor(t).long().reshape(-1)
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return (self.a[idx].reshape(shape) * x0 + self.b[idx].reshape(shape) * noise).to(x0.dtype)


class _Swap:
    """Put a stand-in under a notebook name for the duration of one call, then restore it."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __enter__(self):
        self.saved = getattr(student, self.name) if self.name in student else _MISSING
        setattr(student, self.name, self.fn)
        return self

    def __exit__(self, *exc):
        if self.saved is _MISSING:
            student._namespace.pop(self.name, None)
        else:
            setattr(student, self.name, self.saved)
        return False


def ddpm_loss(params, x0, t, noise, betas, t_scale, g, standin):
    """student.ddpm_loss with a toy model and the stand-in q_sample (coefficients standin["a"],
    standin["b"]); backpropagates g * loss and reports the parameter grads."""
    tx0, tt, tn, tb = _tensor(x0), _tensor(t), _tensor(noise), _tensor(betas)
    model = _ToyEps(params, t_scale, requires_grad=True)
    fake = _StandInQSample(standin["a"], standin["b"])
    with _Swap("q_sample", fake):
        loss = student.ddpm_loss(model, tx0, tt, tn, tb)
    out = _describe(loss)
    report = {"out": out, "inputs_after": _after(x0=tx0, t=tt, noise=tn, betas=tb),
              "model_calls": len(model.steps), "q_sample_calls": fake.calls, "grads": None}
    # Backpropagate only what describe() says is a genuine scalar tensor in the graph; the judge
    # reads the same facts from report["out"] and fails the check itself when it is not.
    if out["kind"] == "torch" and out["shape"] is not None and int(np.prod(out["shape"])) == 1 and out["requires_grad"]:
        (loss.reshape(()) * float(g)).backward()
        grads = {k: _grad_of(p) for k, p in model.p.items()}
        report["grads"] = {k: (None if g is None else _describe(g)["value"]) for k, g in grads.items()}
    return report


# --------------------------------------------------------------------------- part ddim
def _alpha(value, as_tensor):
    return torch.tensor(float(value), dtype=torch.float64) if as_tensor else float(value)


def ddim_step(x_t, eps, ab_t, ab_prev, eta=None, noise=None, as_tensor=False):
    """student.ddim_step; eta None means: called with the defaults (no eta, no noise)."""
    tx, te, tn = _tensor(x_t), _tensor(eps), _tensor(noise)
    a_t, a_prev = _alpha(ab_t, as_tensor), _alpha(ab_prev, as_tensor)
    if eta is None:
        out = student.ddim_step(tx, te, a_t, a_prev)
    else:
        out = student.ddim_step(tx, te, a_t, a_prev, eta=float(eta), noise=tn)
    return {"out": _describe(out, {"x_t": tx, "eps": te}), "inputs_after": _after(x_t=tx, eps=te, noise=tn)}


def ddim_sample(params, x_T, timesteps, alpha_bar, t_scale, eta=None, gen_seed=None, global_seed=None):
    """student.ddim_sample with a toy model; reports the steps the model saw.

    eta None: called with the defaults (eta = 0, no generator). Otherwise eta and a
    torch.Generator seeded with gen_seed are passed, after torch.manual_seed(global_seed): the judge
    compares runs with the same generator seed and different global seeds (and vice versa)."""
    tx = _tensor(x_T)
    steps = torch.tensor(np.asarray(timesteps), dtype=torch.int64)
    ab = torch.tensor(np.asarray(alpha_bar), dtype=torch.float64)
    model = _ToyEps(params, t_scale)
    if eta is None:
        out = student.ddim_sample(model, tx, steps, ab)
    else:
        torch.manual_seed(int(global_seed))
        generator = torch.Generator().manual_seed(int(gen_seed))
        out = student.ddim_sample(model, tx, steps, ab, eta=float(eta), generator=generator)
    return {"out": _describe(out), "inputs_after": _after(x_T=tx, timesteps=steps, alpha_bar=ab),
            "steps_seen": model.steps}


# --------------------------------------------------------------------------- part cfg
def cfg_combine(eps_u, eps_c, w):
    tu, tc = _tensor(eps_u), _tensor(eps_c)
    out = student.cfg_combine(tu, tc, w)
    return {"out": _describe(out), "inputs_after": _after(eps_uncond=tu, eps_cond=tc)}


def guided_eps(params, x_t, t, y, w, null_label, t_scale):
    tx, tt, ty = _tensor(x_t), _tensor(t), _tensor(y)
    model = _ToyCondEps(params, t_scale)
    out = student.guided_eps(model, tx, tt, ty, w, int(null_label))
    return {"out": _describe(out), "inputs_after": _after(x_t=tx, t=tt, y=ty), "labels_seen": model.labels}
