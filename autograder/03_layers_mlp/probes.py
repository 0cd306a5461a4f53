"""Probes for 03_layers_mlp. They run INSIDE the sandbox, next to the student's notebook.

This file is public: a student's cell can read everything in it. So it holds no reference
implementation and no expected value. Where a part calls code from another part, the other part is
a stand-in that is NOT a solution, and the hidden tests in the judge compute what it does:

  cross_entropy   the student's cross_entropy; `softmax` is a stand-in that knows only the softmax
                  of this test's own logits (sent by the judge; any other input raises).
  mlp_*           the student's MLP, sgd_step and train_mlp; `Linear` is a stand-in layer
                  y = tanh(x) @ W + b (same parameters and initialisation as the notebook's
                  Linear, a different function), `cross_entropy` a stand-in one-vs-rest logistic
                  loss. The notebook's own ReLU (given code) is used as it is.

Probes report what came back before any conversion (type, dtype, shape) and then its values.
"""
import numpy as np

_MISSING = object()


# --------------------------------------------------------------------------- stand-ins (not solutions)
class _StandinLinear:
    """Parameters and initialisation of the notebook's Linear (so a student's rng use is unchanged),
    but the function y = tanh(x) @ W + b, whose forward and backward the judge replays."""

    def __init__(self, in_features, out_features, rng=None):
        self.params, self.grads, self.training = {}, {}, True
        rng = np.random.default_rng(0) if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)
        self.params["W"] = rng.uniform(-bound, bound, (in_features, out_features))
        self.params["b"] = rng.uniform(-bound, bound, out_features)
        self.in_features, self.out_features = in_features, out_features

    def __call__(self, x):
        return self.forward(x)

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x):
        self.t = np.tanh(np.asarray(x, dtype=np.float64))
        return self.t @ self.params["W"] + self.params["b"]

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        self.grads["W"] = np.tensordot(self.t, g, axes=(tuple(range(g.ndim - 1)), tuple(range(g.ndim - 1))))
        self.grads["b"] = g.reshape(-1, g.shape[-1]).sum(axis=0)
        return (g @ self.params["W"].T) * (1.0 - self.t * self.t)


_StandinLinear.__name__ = _StandinLinear.__qualname__ = "Linear"


def _standin_loss(logits, targets):
    """One-vs-rest logistic loss (mean over rows of sum over classes) and its gradient."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.eye(z.shape[1])[np.asarray(targets)]
    loss = float(np.mean(np.sum(np.logaddexp(0.0, z) - y * z, axis=1)))
    return loss, (0.5 * (1.0 + np.tanh(0.5 * z)) - y) / z.shape[0]


def _table_softmax(logits, table):
    """softmax known for this test's logits only (and their row-wise shifts)."""
    logits = np.asarray(logits, dtype=np.float64)
    table = np.asarray(table, dtype=np.float64)

    def softmax(x):
        x = np.asarray(x, dtype=np.float64)
        if x.shape == logits.shape:
            d = x - logits
            if np.all(np.isfinite(d)) and np.allclose(d, d[..., :1], rtol=0.0, atol=1e-9 * (1.0 + np.abs(logits).max())):
                return table.copy()
        raise ValueError("this test's stand-in softmax only knows softmax(logits) of the logits it was given")

    return softmax


class _Swap:
    """Temporarily replace names in the notebook's globals by stand-ins."""

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
    return _Swap(Linear=_StandinLinear, cross_entropy=_standin_loss)


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


def _info(x):
    """What the student returned, before any conversion: through the platform's describe(), so a
    patched numpy or an ndarray subclass with a lying `dtype` cannot change what is reported."""
    got = describe(x)
    return {"type": got["type"], "dtype": str(got.get("dtype")), "shape": got.get("shape")}


def _grads(layer):
    grads = getattr(layer, "grads", None)
    if not isinstance(grads, dict):
        return f"<{type(grads).__qualname__}>"
    return {str(k): _arr(v) for k, v in grads.items()}


# --------------------------------------------------------------------------- layers
def layer_run(kind, init, params, x, G, axes=None, mode="train", G_first=None):
    """Build student.<kind>(**init), overwrite its params, run forward(x) and backward(G).

    axes: when given, x is passed as np.transpose(x, axes), a non-contiguous view.
    G_first: when given, forward(x) and backward(G_first) run first on the same layer (grads must
    then hold the second call's values only).
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
    if G_first is not None:               # an earlier forward/backward on the same layer: grads are per call
        layer.forward(x)
        layer.backward(np.array(G_first, dtype=np.float64))
    out = layer.forward(x)
    x_after = describe(x)                 # compared with what was sent in the judge, never here
    out_info, out_arr = _info(out), _arr(out)
    G = np.array(G, dtype=np.float64)
    dx = layer.backward(G)
    return {"out": out_arr, "out_info": out_info, "dx": _arr(dx), "dx_info": _info(dx), "grads": _grads(layer),
            "x_after": x_after, "G_after": describe(G),
            "param_names": sorted(str(k) for k in layer.params)}


def layer_init(kind, init):
    """The parameters a freshly built layer starts with."""
    layer = getattr(student, kind)(**init)
    return {str(k): _arr(v) for k, v in layer.params.items()}


def dropout_run(p, seed, x, G, mode="train", calls=1, axes=None):
    """Dropout(p, rng=default_rng(seed)): `calls` forward passes of x (backward(G) after the last).

    axes: when given, x is passed as np.transpose(x, axes), a non-contiguous view.
    Reports every output (as returned, then as numbers) and the dL/dx of the last call."""
    layer = student.Dropout(p, rng=np.random.default_rng(seed))
    if mode == "eval":
        layer.eval()
    x = np.array(x, dtype=np.float64)
    if axes is not None:
        x = np.transpose(x, axes)
    raw = [layer.forward(x) for _ in range(calls)]
    infos = [_info(o) for o in raw]
    outs = [_arr(o) for o in raw]
    x_after = describe(x)
    G = np.array(G, dtype=np.float64)
    if axes is not None:
        G = np.transpose(G, axes)
    dx = layer.backward(G)
    return {"outs": outs, "infos": infos, "dx": _arr(dx), "dx_info": _info(dx), "x_after": x_after}


# --------------------------------------------------------------------------- softmax / CE
def call_fn(name, x):
    """student.<name>(x) for softmax, softmax_jacobian, log_softmax_jacobian; x left untouched?"""
    x = np.array(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        out = getattr(student, name)(x)
    return {"type": type_name(out), "info": _info(out), "value": _arr(out), "x_after": describe(x)}


def ce_run(logits, targets, softmax_table):
    """student.cross_entropy with the stand-in softmax for these logits (the judge sends its table)."""
    logits = np.array(logits, dtype=np.float64)
    targets = np.array(targets, dtype=np.int64)
    with _Swap(softmax=_table_softmax(logits, softmax_table)), np.errstate(all="ignore"):
        result = student.cross_entropy(logits, targets)
    if not isinstance(result, tuple) or len(result) != 2:
        return {"ok": False, "type": type_name(result)}
    loss, grad = result
    return {"ok": True, "loss": _arr(loss), "loss_type": type_name(loss), "grad": _arr(grad), "grad_info": _info(grad),
            "logits_after": describe(logits)}


# --------------------------------------------------------------------------- MLP
def _linear_layers(model):
    return [layer for layer in model.layers if getattr(layer, "params", None)]


def mlp_grad(sizes, seed, params, x, G):
    """Student MLP on stand-in layers: layer kinds, forward(x), backward(G), every Linear's grads.

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
    """train_mlp on a fresh student MLP (stand-in Linear and loss). Reports the initial params,
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
    # Where Dropout sits: with every LayerNormalization's gamma = 0 and beta = 1 its output is the
    # constant 1, so a Dropout placed AFTER it still makes training outputs random, while a Dropout
    # placed before it is erased by it (training output == inference output). Last: it changes weights.
    norms = [layer for layer in _flat_layers(model) if type(layer).__name__ == "LayerNormalization"]
    if norms and all(len(layer.get_weights()) == 2 for layer in norms):
        for layer in norms:
            gamma, beta = layer.get_weights()
            layer.set_weights([np.zeros_like(gamma), np.ones_like(beta)])
        report["constant_eval"] = _arr(model(x, training=False))     # compared in the judge
        report["constant_train"] = _arr(model(x, training=True))
    return report
