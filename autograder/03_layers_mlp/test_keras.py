"""Hidden suite of 03_layers_mlp, part keras_models.

mlp_param_count is compared with the parameter formula; each builder's model is checked for its
parameter count right after building, its layers, and its inference output, recomputed here in
float64 NumPy from the model's own weights: Dense(h, relu) -> LayerNormalization -> Dropout per
hidden width, then Dense(n_out). Layers are matched by their weight shapes (the widths below are
all different), so the order in which a subclassed model creates its layers does not matter.
"""
from __future__ import annotations

import numpy as np
import pytest

from course.judge import StudentError
from course.judge.check import assert_close, expect, fail

pytestmark = pytest.mark.part("keras_models")

# Keras computes in float32: through three layers with O(1) activations the round-off is ~1e-6;
# 1e-4 absolute + relative is far above it and far below a missing relu or LayerNormalization.
ATOL, RTOL = 1e-4, 1e-4


def expected_count(n_in, hidden, n_out):
    total, prev = 0, n_in
    for h in hidden:
        total += prev * h + h + 2 * h
        prev = h
    return total + prev * n_out + n_out


COUNT_CASES = [(13, [29, 17], 5), (6, [], 4), (1, [3], 1), (7, [11, 5, 9], 2), (784, [128], 10)]


@pytest.mark.parametrize("n_in,hidden,n_out", COUNT_CASES, ids=[f"{a}-{h}-{b}" for a, h, b in COUNT_CASES])
def test_param_count_formula(sub, n_in, hidden, n_out):
    """mlp_param_count가 파라미터 수 공식과 같다"""
    what = f"mlp_param_count({n_in}, {hidden}, {n_out})"
    try:
        got = sub.probe("keras_count", n_in, hidden, n_out)
    except StudentError as exc:
        fail(f"{what}: {exc}")
    value = got["value"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    expect(isinstance(value, int), f"{what} must return an int, got {got['type']}")
    expect(value == expected_count(n_in, hidden, n_out), f"{what} = {value} is wrong "
           "(Dense: n_in * n_out + n_out, LayerNormalization: 2 * d, Dropout: 0)")


def _layer_norm(x, gamma, beta, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _recompute(layers, n_in, hidden, n_out, x, what):
    dense = {}
    norms = {}
    for layer in layers:
        if layer["cls"] == "Dense" and len(layer["weights"]) == 2:
            dense[layer["weights"][0].shape] = layer
        elif layer["cls"] == "LayerNormalization" and len(layer["weights"]) == 2:
            norms[layer["weights"][0].shape[0]] = layer
    h, prev = x.astype(np.float64), n_in
    for width in hidden:
        d = dense.get((prev, width))
        if d is None:
            fail(f"{what}: no Dense layer with a ({prev}, {width}) kernel and a bias")
        # Dense(h, activation="relu"), or a linear Dense followed by a ReLU of its own (a ReLU layer,
        # Activation("relu"), tf.nn.relu in call): the same model; the output check below sees which
        expect(d["activation"] in ("relu", "linear", None),
               f"{what}: the hidden Dense({width}) has activation {d['activation']!r}, expected relu")
        h = np.maximum(h @ d["weights"][0] + d["weights"][1], 0.0)
        ln = norms.get(width)
        if ln is None:
            fail(f"{what}: no LayerNormalization over {width} features")
        h = _layer_norm(h, ln["weights"][0], ln["weights"][1], ln["epsilon"])
        prev = width
    d = dense.get((prev, n_out))
    if d is None:
        fail(f"{what}: no output Dense layer with a ({prev}, {n_out}) kernel and a bias")
    expect(d["activation"] in (None, "linear"), f"{what}: the output Dense({n_out}) has no activation (logits)")
    return h @ d["weights"][0] + d["weights"][1]


BUILD_SPECS = [(13, [29, 17], 5, 0.3), (6, [], 4, 0.1)]
BUILDERS = ["build_sequential", "build_functional", "build_subclassed"]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("n_in,hidden,n_out,rate", BUILD_SPECS, ids=[f"{a}-{h}-{b}" for a, h, b, _ in BUILD_SPECS])
def test_builder(sub, builder, n_in, hidden, n_out, rate):
    """세 가지 API로 만든 모델의 층, 파라미터 수, 추론/학습 출력이 맞다"""
    rng = np.random.default_rng([sub.seed, 800 + n_in])   # per submission, the same on a regrade
    x = rng.standard_normal((3, n_in)).astype(np.float32)
    what = f"{builder}({n_in}, {hidden}, {n_out}, dropout={rate})"
    try:
        got = sub.probe("keras_build", builder, n_in, hidden, n_out, rate, x, timeout=60)
    except StudentError as exc:
        fail(f"{what}: {exc}")
    expect(got["is_model"], f"{what} must return a keras.Model, got {got['type']}")
    want = expected_count(n_in, hidden, n_out)
    expect(got["count"] == want, f"{what}: count_params() right after building is {got['count']}, expected {want}"
           + (" (a subclassed model has no weights until it is called once)" if got["count"] == 0 else ""))
    layers = got["layers"]
    kinds = [layer["cls"] for layer in layers if layer["cls"] != "InputLayer"]
    for cls, n in (("Dense", len(hidden) + 1), ("LayerNormalization", len(hidden)), ("Dropout", len(hidden))):
        expect(kinds.count(cls) == n, f"{what}: {kinds.count(cls)} {cls} layer(s), expected {n}")
    if builder != "build_subclassed":
        # Sequential and Functional list their layers in the order they are applied (a subclassed
        # model lists them in the order it made them). Dropout before LayerNormalization has the same
        # parameter count and the same inference output, but it is another model when training.
        order = [k for k in kinds if k in ("Dense", "LayerNormalization", "Dropout")]
        want_order = ["Dense", "LayerNormalization", "Dropout"] * len(hidden) + ["Dense"]
        expect(order == want_order, f"{what}: the layers are applied in the order {' -> '.join(order)}, "
                                    f"expected {' -> '.join(want_order)}")
    rates = [layer["rate"] for layer in layers if layer["cls"] == "Dropout"]
    expect(all(r is not None and abs(r - rate) < 1e-12 for r in rates), f"{what}: Dropout rates {rates}, expected {rate}")
    out = got["out1"]
    if not isinstance(out, np.ndarray) or out.shape != (3, n_out):
        fail(f"{what}: model(x) for x of shape (3, {n_in}) gave {getattr(out, 'shape', out)}, expected (3, {n_out})")
    assert_close(got["out2"], out, atol=0.0, what=f"{what}: a second model(x, training=False) call "
                 "(inference must be deterministic: Dropout is off when training=False)")
    want_out = _recompute(layers, n_in, hidden, n_out, x, what)
    assert_close(out, want_out, atol=ATOL, rtol=RTOL,
                 what=f"{what}: model(x, training=False) vs Dense(relu) -> LayerNormalization -> Dropout ... -> Dense"
                      " (every hidden Dense followed by a ReLU)")
    if hidden:
        expect(not np.allclose(got["out_train"], out),
               f"{what}: model(x, training=True) equals the inference output; Dropout must be active in training")
        constant_eval, constant_train = got.get("constant_eval"), got.get("constant_train")
        erased = (isinstance(constant_eval, np.ndarray) and isinstance(constant_train, np.ndarray)
                  and constant_eval.shape == constant_train.shape and np.allclose(constant_train, constant_eval))
        expect(not erased,
               f"{what}: Dropout is applied before LayerNormalization (with the norms' gamma set to 0 a training "
               f"call gives the inference output); the order is Dense(relu) -> LayerNormalization -> Dropout")
