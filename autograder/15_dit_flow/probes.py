"""Probes for 15_dit_flow. They run INSIDE the sandbox, next to the student's notebook.

Globals provided by the sandbox: `student` (the notebook's namespace), `type_name`, `to_numpy`, `describe`.

Every probe receives plain NumPy data from the judge, builds the torch tensors the exercise asks
for (dtype and memory layout chosen by the judge: contiguous, a channels-last permuted view, every
other element of a larger tensor along the last axis, or a transposed view), calls the student's
function and reports plain data: what came back (kind, dtype, shape, float64 values, read by the
platform's describe()), gradients where asked, the inputs as describe() reads them after the call,
and what the student's code asked of the velocity fields / models the probes hand it. Nothing is
decided here (a notebook cell may patch torch.equal or pass a lying Tensor subclass): the hidden
tests compare in the judge. Nothing here knows the expected values.

Part isolation: the four parts never call one another's functions in the notebook, so no reference
needs to be swapped in. The flow-matching loss is probed with a small model defined here, and the
Euler sampler with analytic velocity fields defined here (not the notebook's given gmm_velocity, which
a student could have redefined).
"""
import numpy as np
import torch

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


# --------------------------------------------------------------------------- building inputs
def _tensor(spec, requires_grad=False):
    """(leaf, view) from {"value": array, "dtype": name, "layout": name}.

    The view holds exactly spec["value"]; the leaf is the tensor it was cut from (it gets .grad).
    layouts: contiguous; channels_last (a 5-D value stored as (B, T, H, W, C) and seen through
    permute); strided (every other element of a tensor twice as long in the last axis, NaN gaps);
    transposed (the last two axes swapped in memory).
    """
    value = np.asarray(spec["value"], dtype=np.float64)
    dtype = _DTYPES[spec.get("dtype", "float64")]
    layout = spec.get("layout", "contiguous")
    if layout == "contiguous":
        leaf = torch.tensor(value, dtype=dtype)
    elif layout == "channels_last":
        leaf = torch.tensor(np.ascontiguousarray(np.moveaxis(value, 1, -1)), dtype=dtype)
    elif layout == "strided":
        full = np.full(value.shape[:-1] + (2 * value.shape[-1],), np.nan)
        full[..., ::2] = value
        leaf = torch.tensor(full, dtype=dtype)
    elif layout == "transposed":
        leaf = torch.tensor(np.ascontiguousarray(np.swapaxes(value, -1, -2)), dtype=dtype)
    else:
        raise ValueError(f"unknown layout {layout!r}")
    if requires_grad:
        leaf.requires_grad_(True)
    if layout == "channels_last":
        view = leaf.movedim(-1, 1)
    elif layout == "strided":
        view = leaf[..., ::2]
    elif layout == "transposed":
        view = leaf.transpose(-1, -2)
    else:
        view = leaf
    if requires_grad and view is not leaf:
        view.retain_grad()              # grads are reported for the values the student saw
    return leaf, view


def _describe(obj, inputs=None):
    """kind / dtype / shape / requires_grad / aliases of a returned object, read by the platform's
    describe() BEFORE any conversion; then its values as float64 (value None if unreadable). Every
    fact comes from describe (C-level reads captured before the notebook ran), never from the
    object: a cell may patch torch, or return a Tensor subclass that lies about its dtype or
    requires_grad (a subclass is reported under its own type name, not as "torch")."""
    d = describe(obj, inputs)
    tensor = d.get("type") == "torch.Tensor" and d.get("exact") is True
    info = {"kind": "torch" if tensor else d["type"], "dtype": None, "shape": None,
            "value": None, "requires_grad": False, "aliases": list(d.get("aliases") or [])}
    if tensor:
        info["dtype"], info["shape"], info["requires_grad"] = d["dtype"], d["shape"], d["requires_grad"] is True
        value = d.get("value")
        if type(value) is np.ndarray and value.dtype.kind in "fiu":   # bool, complex: no numbers to compare
            info["value"] = value.astype(np.float64)
    return info


_MRO = type.__dict__["__mro__"].__get__


def _is_a(obj, cls) -> bool:
    """isinstance by the real type's MRO (a class cannot answer for itself via __instancecheck__/__class__)."""
    return any(k is cls for k in _MRO(type(obj)))


def _after(*tensors):
    """The inputs as they are after the call, read by describe(); the judge decides whether they
    still hold what it sent (course.judge.described.unchanged): torch.equal or clone may be patched here."""
    return [describe(t) for t in tensors]


def _grad(t):
    """t.grad's values, read through TensorBase's own descriptor (a cell may shadow torch.Tensor.grad)
    and converted by describe() (not by .numpy(), which a cell may patch)."""
    g = torch._C.TensorBase.__dict__["grad"].__get__(t)
    return None if g is None else _describe(g)["value"]


def _backward(out, info, g):
    """Backpropagate L = sum(G * out); an error text when no gradient can flow. Decided from
    `info`, the describe() record of `out` that the judge receives too, not from `out` itself."""
    if info["kind"] != "torch":
        return "the result is not a torch.Tensor, so no gradient can flow back"
    if not info["requires_grad"]:
        return ("the result does not require grad: the computation graph was cut "
                "(.detach(), .numpy(), torch.no_grad() or a new tensor built from values)")
    if tuple(info["shape"]) != tuple(np.shape(g)):
        return f"the result has shape {tuple(info['shape'])}, so the gradient check could not run"
    (out * torch.tensor(np.asarray(g), dtype=getattr(torch, info["dtype"]))).sum().backward()
    return None


# --------------------------------------------------------------------------- part patchify
def patchify(x, patch_size, grad=None):
    """student.patchify on x (a spec); grad: None or a random upstream gradient for the tokens."""
    leaf, view = _tensor(x, requires_grad=grad is not None)
    out = student.patchify(view, tuple(int(p) for p in patch_size))
    report = {"out": _describe(out), "inputs_after": _after(view)}
    if grad is not None:
        report["grad_error"] = _backward(out, report["out"], grad)
        report["grad"] = None if report["grad_error"] else _grad(view)
    return report


def unpatchify(tokens, patch_size, size, grad=None):
    leaf, view = _tensor(tokens, requires_grad=grad is not None)
    out = student.unpatchify(view, tuple(int(p) for p in patch_size), tuple(int(s) for s in size))
    report = {"out": _describe(out), "inputs_after": _after(view)}
    if grad is not None:
        report["grad_error"] = _backward(out, report["out"], grad)
        report["grad"] = None if report["grad_error"] else _grad(view)
    return report


def roundtrip(x, patch_size):
    """unpatchify(patchify(x)) and patchify(unpatchify(patchify(x))) with the student's own pair."""
    _, view = _tensor(x)
    p = tuple(int(s) for s in patch_size)
    size = tuple(int(s) for s in view.shape[2:])
    tokens = student.patchify(view, p)
    first = _describe(tokens)
    if first["kind"] != "torch":
        return {"error": f"patchify returned {first['kind']}, not a torch.Tensor"}
    back = student.unpatchify(tokens, p, size)
    back_info = _describe(back)
    again = _describe(student.patchify(back, p)) if back_info["kind"] == "torch" else None
    return {"error": None, "tokens_shape": first["shape"], "back": back_info, "again": again,
            "tokens": first["value"]}


# --------------------------------------------------------------------------- part adaln_zero
def modulate(x, shift, scale):
    tx, ts, tc = (_tensor(s)[1] for s in (x, shift, scale))
    return _describe(student.modulate(tx, ts, tc))


def _block_report(block, x, c, g, dtype):
    """Forward on x, c, then L = sum(G * out) backward; out, grads of x, c and every parameter."""
    tx = torch.tensor(np.asarray(x), dtype=dtype, requires_grad=True)
    tc = torch.tensor(np.asarray(c), dtype=dtype, requires_grad=True)
    out = block(tx, tc)
    report = {"out": _describe(out)}
    error = _backward(out, report["out"], g)
    report["grad_error"] = error
    if error is None:
        report["grad_x"], report["grad_c"] = _grad(tx), _grad(tc)
        report["grad_params"] = {name: _grad(p) for name, p in block.named_parameters()}
    return report


def _state(block):
    return {name: _describe(t)["value"] for name, t in block.state_dict().items()}


def adaln_init(dim, cond_dim, num_heads, mlp_ratio, seed, x, c, g):
    """A freshly initialised block (torch.manual_seed(seed) first), run in float64 as created.

    Reports its state_dict (so the judge can compute the expected gradients at init from the very
    weights the student's __init__ produced), the output and the gradients for L = sum(G * out).
    """
    torch.manual_seed(int(seed))
    block = student.AdaLNZeroBlock(int(dim), int(cond_dim), int(num_heads), float(mlp_ratio))
    if not _is_a(block, torch.nn.Module):
        return {"error": f"AdaLNZeroBlock(...) is a {type_name(block)}, not a torch.nn.Module"}
    block = block.double()
    report = {"error": None, "state": _state(block)}
    report.update(_block_report(block, x, c, g, torch.float64))
    return report


def adaln_forward(dim, cond_dim, num_heads, mlp_ratio, state, x, c, g, dtype="float64"):
    """The block with the judge's weights (load_state_dict, strict) in the given dtype."""
    torch.manual_seed(0)
    block = student.AdaLNZeroBlock(int(dim), int(cond_dim), int(num_heads), float(mlp_ratio))
    if not _is_a(block, torch.nn.Module):
        return {"error": f"AdaLNZeroBlock(...) is a {type_name(block)}, not a torch.nn.Module"}
    tdtype = _DTYPES[dtype]
    block = block.to(tdtype)
    expected, have = set(state), set(block.state_dict())
    if expected != have:
        return {"error": "the block's parameters do not match the notebook's structure: "
                         f"missing {sorted(expected - have)}, unexpected {sorted(have - expected)}"}
    block.load_state_dict({k: torch.tensor(np.asarray(v), dtype=tdtype) for k, v in state.items()}, strict=True)
    report = {"error": None}
    report.update(_block_report(block, x, c, g, tdtype))
    return report


# --------------------------------------------------------------------------- part rectified_flow
def interpolate(x0, x1, t):
    tensors = [_tensor(s)[1] for s in (x0, x1, t)]
    out = student.rf_interpolate(*tensors)
    return {"out": _describe(out), "inputs_after": _after(*tensors)}


def target(x0, x1):
    tensors = [_tensor(s)[1] for s in (x0, x1)]
    out = student.velocity_target(*tensors)
    return {"out": _describe(out), "inputs_after": _after(*tensors)}


class _ProbeModel(torch.nn.Module):
    """v(x, t) = a * x + b * t + w * tanh(x), elementwise parameters of the per-sample shape.

    Logs what it is called with, so the judge can check x_t and t."""

    def __init__(self, a, b, w, dtype):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(np.asarray(a), dtype=dtype))
        self.b = torch.nn.Parameter(torch.tensor(np.asarray(b), dtype=dtype))
        self.w = torch.nn.Parameter(torch.tensor(np.asarray(w), dtype=dtype))
        self.calls = []

    def forward(self, x, t):
        self.calls.append({"x": _describe(x), "t": _describe(t)})    # what the student passed, before any cast
        t = torch.as_tensor(t, dtype=x.dtype)
        tb = t.reshape(-1, *[1] * (x.dim() - 1)) if t.dim() else t
        return self.a * x + self.b * tb + self.w * torch.tanh(x)


def fm_loss(x0, x1, t, params):
    """student.flow_matching_loss with the probe model; loss, its gradients and the model's calls."""
    tx0, tx1, tt = (_tensor(s)[1] for s in (x0, x1, t))
    dtype = tx0.dtype
    model = _ProbeModel(params["a"], params["b"], params["w"], dtype)
    loss = student.flow_matching_loss(model, tx0, tx1, tt)
    info = _describe(loss)
    report = {"loss": info, "calls": model.calls, "grad_error": None, "grads": None}
    # decided from describe()'s record (sent to the judge as report["loss"]), not from the loss object
    if info["kind"] != "torch":
        report["grad_error"] = f"the loss is a {info['kind']}, not a torch.Tensor"
    elif int(np.prod(info["shape"])) != 1:
        report["grad_error"] = f"the loss has shape {tuple(info['shape'])}; it must be a single number (0-d tensor)"
    elif not info["requires_grad"]:
        report["grad_error"] = "the loss does not require grad: the graph to the model's parameters was cut"
    else:
        loss.reshape(()).backward()
        report["grads"] = {name: _grad(p) for name, p in model.named_parameters()}
    return report


# --------------------------------------------------------------------------- part euler_sampler
def _gmm_field(means, sigma):
    means = torch.tensor(np.asarray(means), dtype=torch.float64)

    def field(x, t):
        t = t.reshape(-1, 1)
        m = means.to(x.dtype)
        var = (1 - t) ** 2 + (t * sigma) ** 2
        diff = x[:, None, :] - t[:, :, None] * m[None, :, :]
        w = torch.softmax(-(diff ** 2).sum(-1) / (2 * var), dim=-1)
        cond = m[None] + ((t * sigma ** 2 - (1 - t)) / var)[:, :, None] * diff
        return (w[:, :, None] * cond).sum(dim=1)
    return field


def _linear_field(A, b):
    A = torch.tensor(np.asarray(A), dtype=torch.float64)
    b = torch.tensor(np.asarray(b), dtype=torch.float64)

    def field(x, t):
        tb = t.reshape(-1, *[1] * (x.dim() - 1))
        return (x @ A.to(x.dtype).T) * (1 + 3 * tb) + b.to(x.dtype) * torch.cos(2 * tb)
    return field


def euler(field, args, x0, num_steps, return_path=False):
    """student.euler_sample with an analytic field; logs the times (and their shapes) it was asked for."""
    base = _gmm_field(args["means"], float(args["sigma"])) if field == "gmm" else _linear_field(args["A"], args["b"])
    calls = []

    def velocity_fn(x, t):
        xd = _describe(x)
        if xd["kind"] != "torch":
            raise TypeError(f"velocity_fn got x of type {xd['kind']}; pass the current torch tensor")
        # Record t as the student passed it (type, dtype, shape) BEFORE converting it for the field,
        # read by describe() (a float32 t for float64 x, or a Python float, must show; a cell may
        # patch torch or pass a Tensor subclass that lies about its dtype).
        td = describe(t)
        kind = "torch" if td["type"] == "torch.Tensor" and td.get("exact") is True else td["type"]
        times = td.get("value")
        calls.append({"t": None if times is None else np.asarray(times, dtype=np.float64).reshape(-1),
                      "t_kind": kind,
                      "t_shape": td["shape"] if kind == "torch" else None,
                      "x_shape": xd["shape"],
                      "t_dtype": td["dtype"] if kind == "torch" else None})
        tt = torch.as_tensor(t, dtype=getattr(torch, xd["dtype"]))   # x's real dtype, not x.dtype (patchable)
        return base(x, tt.expand(x.shape[0]) if tt.dim() == 0 else tt)

    _, tx0 = _tensor(x0)
    if return_path:
        out = student.euler_sample(velocity_fn, tx0, int(num_steps), return_path=True)
    else:
        out = student.euler_sample(velocity_fn, tx0, int(num_steps))
    return {"out": _describe(out), "calls": calls, "inputs_after": _after(tx0)}
