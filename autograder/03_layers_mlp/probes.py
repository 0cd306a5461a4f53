"""Probes for 03_layers_mlp. They run INSIDE the sandbox, next to the student's notebook.

Each graded part is probed in isolation. Where a part calls code from another part, the other part
is swapped for the reference version below for the duration of one probe (the notebook says so):

  cross_entropy   the student's cross_entropy; reference softmax.
  mlp_train       the student's MLP, sgd_step and train_mlp; reference Linear, ReLU, softmax
                  and cross_entropy.

Probes only run the student's code and report what it produced (as plain data); every expected
value is computed by the hidden tests in the judge process.
"""
import numpy as np

_MISSING = object()


# --------------------------------------------------------------------------- reference pieces
class _RefModule:
    def __init__(self):
        self.params = {}
        self.grads = {}
        self.training = True

    def __call__(self, x):
        return self.forward(x)

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


class _RefReLU(_RefModule):
    def forward(self, x):
        self.mask = np.asarray(x) > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, grad_out):
        return grad_out * self.mask


class _RefLinear(_RefModule):
    """Same initialisation as the notebook's Linear (so a student's rng use is unchanged)."""

    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)
        self.params["W"] = rng.uniform(-bound, bound, (in_features, out_features))
        self.params["b"] = rng.uniform(-bound, bound, out_features)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x):
        self.x = np.asarray(x, dtype=np.float64)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, grad_out):
        x2 = self.x.reshape(-1, self.in_features)
        g2 = np.asarray(grad_out, dtype=np.float64).reshape(-1, self.out_features)
        self.grads["W"] = x2.T @ g2
        self.grads["b"] = g2.sum(axis=0)
        return grad_out @ self.params["W"].T


_RefReLU.__name__ = _RefReLU.__qualname__ = "ReLU"
_RefLinear.__name__ = _RefLinear.__qualname__ = "Linear"


def _ref_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _ref_cross_entropy(logits, targets):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    n = logits.shape[0]
    rows = np.arange(n)
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    grad = _ref_softmax(logits)
    grad[rows, targets] -= 1.0
    return float(np.mean(lse - logits[rows, targets])), grad / n


class _Swap:
    """Temporarily replace names in the notebook's globals by reference versions."""

    def __init__(self, **names):
        self.names = names

    def __enter__(self):
        self.saved = {k: (getattr(student, k) if k in student else _MISSING) for k in self.names}
        for k, v in self.names.items():
            setattr(student, k, v)
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is _MISSING:
                student._namespace.pop(k, None)
            else:
                setattr(student, k, v)
        return False


def _mlp_swap():
    return _Swap(Linear=_RefLinear, ReLU=_RefReLU, softmax=_ref_softmax, cross_entropy=_ref_cross_entropy)


# --------------------------------------------------------------------------- reporting helpers
def _arr(x):
    """A value as a float64 array, None, or a short string saying what it was (0-d -> float)."""
    if x is None:
        return None
    try:
        a = np.array(x if isinstance(x, np.ndarray) else to_numpy(x), dtype=np.float64)
    except Exception:
        return f"<{type(x).__module__}.{type(x).__qualname__}>"
    return float(a) if a.ndim == 0 else a


def _grads(layer):
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict):
        return f"<{type(grads).__qualname__}>"
    return {str(k): _arr(v) for k, v in grads.items()}


# --------------------------------------------------------------------------- layers
def layer_run(kind, init, params, x, G, axes=None, mode="train"):
    """Build student.<kind>(**init), overwrite its params, run forward(x) and backward(G).

    axes: when given, x is passed as np.transpose(x, axes), a non-contiguous view.
    Reports the output, dL/dx, the grads, and whether forward left the caller's x untouched.
    """
    cls = getattr(student, kind)
    layer = cls(**init)
    for name, value in (params or {}).items():
        layer.params[name] = np.array(value, dtype=np.float64)
    if mode == "eval":
        layer.eval()
    x = np.array(x)
    if axes is not None:
        x = np.transpose(x, axes)
    before = x.copy()
    out = layer.forward(x)
    untouched = bool(np.array_equal(x, before))
    out_arr = _arr(out)
    dx = layer.backward(np.array(G, dtype=np.float64))
    return {"out": out_arr, "dx": _arr(dx), "grads": _grads(layer), "x_untouched": untouched,
            "param_names": sorted(str(k) for k in layer.params)}


def layer_init(kind, init):
    """The parameters a freshly built layer starts with."""
    layer = getattr(student, kind)(**init)
    return {str(k): _arr(v) for k, v in layer.params.items()}


def dropout_run(p, seed, x, G, mode="train", calls=1):
    """Dropout(p, rng=default_rng(seed)): `calls` forward passes of x (backward(G) after the last).

    Reports every output and the dL/dx of the last call."""
    layer = student.Dropout(p, rng=np.random.default_rng(seed))
    if mode == "eval":
        layer.eval()
    x = np.array(x, dtype=np.float64)
    before = x.copy()
    outs = [_arr(layer.forward(x)) for _ in range(calls)]
    untouched = bool(np.array_equal(x, before))
    dx = layer.backward(np.array(G, dtype=np.float64))
    return {"outs": outs, "dx": _arr(dx), "x_untouched": untouched}


# --------------------------------------------------------------------------- softmax / CE
def call_fn(name, x):
    """student.<name>(x) for softmax, softmax_jacobian, log_softmax_jacobian; x left untouched?"""
    x = np.array(x, dtype=np.float64)
    before = x.copy()
    with np.errstate(all="ignore"):
        out = getattr(student, name)(x)
    return {"type": type_name(out), "value": _arr(out), "x_untouched": bool(np.array_equal(x, before))}


def ce_run(logits, targets):
    logits = np.array(logits, dtype=np.float64)
    targets = np.array(targets, dtype=np.int64)
    with _Swap(softmax=_ref_softmax), np.errstate(all="ignore"):
        result = student.cross_entropy(logits, targets)
    if not isinstance(result, tuple) or len(result) != 2:
        return {"ok": False, "type": type_name(result)}
    loss, grad = result
    return {"ok": True, "loss": _arr(loss), "loss_type": type_name(loss), "grad": _arr(grad)}


# --------------------------------------------------------------------------- MLP
def _linear_layers(model):
    return [layer for layer in model.layers if getattr(layer, "params", None)]


def mlp_grad(sizes, seed, params, x, G):
    """Student MLP on reference layers: layer kinds, forward(x), backward(G), every Linear's grads.

    params: [[W, b], ...] written into the parametrised layers in order."""
    with _mlp_swap():
        model = student.MLP(list(sizes), rng=np.random.default_rng(seed))
        kinds = [type(layer).__name__ for layer in model.layers]
        linears = _linear_layers(model)
        if len(linears) != len(params):
            return {"kinds": kinds, "out": None}
        for layer, (W, b) in zip(linears, params):
            layer.params["W"] = np.array(W, dtype=np.float64)
            layer.params["b"] = np.array(b, dtype=np.float64)
        out = _arr(model.forward(np.array(x, dtype=np.float64)))
        dx = _arr(model.backward(np.array(G, dtype=np.float64)))
        grads = [[_arr(layer.grads.get("W")), _arr(layer.grads.get("b"))] for layer in linears]
    return {"kinds": kinds, "out": out, "dx": dx, "grads": grads}


def mlp_sgd(sizes, seed, params, grads, lr):
    """sgd_step on a student MLP whose Linear params and grads are set to the given values;
    reports the params afterwards (read from the same layer objects)."""
    with _mlp_swap():
        model = student.MLP(list(sizes), rng=np.random.default_rng(seed))
        linears = _linear_layers(model)
        if len(linears) != len(params):
            return {"params": None, "n_linear": len(linears)}
        for layer, (W, b), (gW, gb) in zip(linears, params, grads):
            layer.params["W"] = np.array(W, dtype=np.float64)
            layer.params["b"] = np.array(b, dtype=np.float64)
            layer.grads["W"] = np.array(gW, dtype=np.float64)
            layer.grads["b"] = np.array(gb, dtype=np.float64)
        student.sgd_step(model, lr)
        after = [[_arr(layer.params["W"]), _arr(layer.params["b"])] for layer in linears]
    return {"params": after, "n_linear": len(linears)}


def mlp_train(sizes, seed, X, y, steps, lr):
    """train_mlp on a fresh student MLP (reference layers and loss). Reports the initial params,
    the returned losses and the logits of the trained model on X."""
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.int64)
    with _mlp_swap():
        model = student.MLP(list(sizes), rng=np.random.default_rng(seed))
        initial = [[_arr(layer.params["W"]), _arr(layer.params["b"])] for layer in _linear_layers(model)]
        losses = student.train_mlp(model, X, y, steps, lr)
        try:
            losses = [float(v) for v in losses]
        except Exception:
            losses = f"<{type(losses).__qualname__}>"
        logits = _arr(model.forward(X))
    return {"initial": initial, "losses": losses, "logits": logits}


# --------------------------------------------------------------------------- Keras
def keras_count(n_in, hidden, n_out):
    out = student.mlp_param_count(n_in, list(hidden), n_out)
    return {"type": type_name(out), "value": out if isinstance(out, (int, np.integer)) else _arr(out)}


def _flat_layers(model):
    """model.layers with nested models (a Sequential inside a subclassed model, ...) expanded."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer is not model:
            out.extend(_flat_layers(layer))
        else:
            out.append(layer)
    return out


def keras_build(builder, n_in, hidden, n_out, dropout, x):
    """student.<builder>(...): parameter count right after building, then two inference calls and
    one training call on x, and a description of the layers (class, units/rate, activation, weights)."""
    import tensorflow as tf

    tf.random.set_seed(1234)
    model = getattr(student, builder)(n_in, list(hidden), n_out, dropout=dropout)
    report = {"is_model": isinstance(model, tf.keras.Model), "type": type_name(model)}
    if not report["is_model"]:
        return report
    report["count"] = int(model.count_params())                   # before any call by the probe
    x = np.array(x, dtype=np.float32)
    report["out1"] = _arr(model(x, training=False))
    report["out2"] = _arr(model(x, training=False))
    report["out_train"] = _arr(model(x, training=True))
    described = []
    for layer in _flat_layers(model):
        cfg = layer.get_config()
        described.append({
            "cls": type(layer).__name__,
            "units": cfg.get("units"),
            "activation": cfg.get("activation") if isinstance(cfg.get("activation"), str) else None,
            "rate": cfg.get("rate"),
            "epsilon": cfg.get("epsilon"),
            "weights": [np.array(w, dtype=np.float64) for w in layer.get_weights()],
        })
    report["layers"] = described
    return report
