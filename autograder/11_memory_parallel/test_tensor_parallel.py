"""Hidden suite of 11_memory_parallel, part tensor_parallel (3 points).

Column- and row-parallel linear layers on simulated devices against the dense layer y = x W + b,
forward and backward with RANDOM upstream gradients (a backward that ignores dL/dy or forgets the
all-reduce is caught). Odd sizes (d_in = 9, d_out = 11, 7 rows) so shards are uneven; 2 devices
(as in the notebook) and 3; 2-D and 3-D (batch, seq, d) inputs; inputs as contiguous arrays,
transposed views or every other row of a larger array (non-contiguous). Shards are cut in the probe
with np.array_split (the notebook's split_columns / split_rows), so expected shards are the matching
blocks of the dense gradients computed here in float64.
"""
from __future__ import annotations

import numpy as np
import pytest

from course.judge.check import assert_close, expect, fail
from course.judge.described import expect_described

pytestmark = pytest.mark.part("tensor_parallel")

# float64 on both sides; the student's and the dense results differ only in the order of summation
# (blocks vs one matmul, an all-reduce of N partial sums): ~1e-15 relative for O(1) values with
# <= 30-term sums. 1e-10 is far above that and far below any real mistake (O(0.1) and up).
TOL = dict(atol=1e-10, rtol=1e-10)

D_IN, D_OUT = 9, 11
CASES = [
    ((7, D_IN), 2, "contiguous"),
    ((2, 5, D_IN), 2, "transposed"),
    ((7, D_IN), 3, "strided"),
]
IDS = ["2d-2dev", "3d-2dev-transposed", "2d-3dev-strided"]


def data(sub, shape, seed):
    rng = np.random.default_rng([sub.seed, seed])     # per submission: an answer table is for other inputs
    x = rng.standard_normal(shape)
    W = rng.standard_normal((D_IN, D_OUT))
    b = rng.standard_normal(D_OUT)
    G = rng.standard_normal(shape[:-1] + (D_OUT,))        # random upstream gradient dL/dy
    return x, W, b, G


def describe(shape, n_dev, layout):
    words = {"contiguous": "", "transposed": ", x a transposed view (non-contiguous)",
             "strided": ", x every other row of a larger array (non-contiguous)"}
    return f"x {shape}, W ({D_IN}, {D_OUT}), {n_dev} devices{words[layout]}"


def blocks(a, n, axis):
    return np.array_split(a, n, axis=axis)


def check_list(got, want, name, what, infos=None):
    if isinstance(got, str):
        fail(f"{name}: expected a list with one array per device, got {got} ({what})")
    for i, info in enumerate(infos or []):     # recorded by describe() in the sandbox, decided here
        expect_described(info, what=f"{name}[{i}] ({what})", type="numpy.ndarray", dtype="float64")
    expect(len(got) == len(want), f"{name}: {len(got)} arrays for {len(want)} devices ({what})")
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(g, str):
            fail(f"{name}[{i}]: expected a NumPy array, got {g} ({what})")
        assert_close(g, w, **TOL, what=f"{name}[{i}] (device {i})", inputs={"case": what})


@pytest.mark.parametrize("shape,n_dev,layout", CASES, ids=IDS)
def test_column_forward(sub, shape, n_dev, layout):
    """column-parallel forward: 각 장치가 출력의 열 블록"""
    x, W, b, G = data(sub, shape, 1)
    got = sub.probe("tp_column", x, W, b, G, n_dev, layout)
    check_list(got["Y"], blocks(x @ W + b, n_dev, -1), "column_parallel_forward(...)", describe(shape, n_dev, layout),
               got["Y_info"])


@pytest.mark.parametrize("shape,n_dev,layout", CASES, ids=IDS)
def test_column_backward(sub, shape, n_dev, layout):
    """column-parallel backward: all-reduce된 dx, 장치별 dW, db"""
    x, W, b, G = data(sub, shape, 2)
    what = describe(shape, n_dev, layout) + ", random upstream gradient"
    got = sub.probe("tp_column", x, W, b, G, n_dev, layout, True)
    if "error" in got:
        fail(got["error"])
    x2, G2 = x.reshape(-1, D_IN), G.reshape(-1, D_OUT)
    check_list(got["dx"], [G @ W.T] * n_dev, "dx (all-reduced dL/dx)", what)
    check_list(got["dW"], blocks(x2.T @ G2, n_dev, 1), "dW_shards", what)
    check_list(got["db"], blocks(G2.sum(axis=0), n_dev, 0), "db_shards", what)


@pytest.mark.parametrize("shape,n_dev,layout", CASES, ids=IDS)
def test_row_forward(sub, shape, n_dev, layout):
    """row-parallel forward: 부분합을 all-reduce하고 bias는 한 번"""
    x, W, b, G = data(sub, shape, 3)
    got = sub.probe("tp_row", x, W, b, G, n_dev, layout)
    check_list(got["y"], [x @ W + b] * n_dev, "row_parallel_forward(...)", describe(shape, n_dev, layout),
               got["y_info"])


@pytest.mark.parametrize("shape,n_dev,layout", CASES, ids=IDS)
def test_row_backward(sub, shape, n_dev, layout):
    """row-parallel backward: 장치별 dx, dW와 db"""
    x, W, b, G = data(sub, shape, 4)
    what = describe(shape, n_dev, layout) + ", random upstream gradient"
    got = sub.probe("tp_row", x, W, b, G, n_dev, layout, True)
    if "error" in got:
        fail(got["error"])
    x2, G2 = x.reshape(-1, D_IN), G.reshape(-1, D_OUT)
    check_list(got["dx"], blocks(G @ W.T, n_dev, -1), "dx_shards", what)
    check_list(got["dW"], blocks(x2.T @ G2, n_dev, 0), "dW_shards", what)
    if isinstance(got["db"], str):
        fail(f"db: expected a NumPy array, got {got['db']} ({what})")
    assert_close(got["db"], G2.sum(axis=0), **TOL, what="db", inputs={"case": what})


# The four functions together, as Megatron uses them: an MLP block column-parallel W1, tanh,
# row-parallel W2, forward and backward, equal to the dense block. Any wrong piece breaks it, so it
# weighs as much as the four pieces.
@pytest.mark.part("tensor_parallel", weight=4)
@pytest.mark.parametrize("n_dev", [2, 3])
def test_megatron_mlp_equals_dense(sub, n_dev):
    """Megatron MLP (column -> tanh -> row)의 forward와 backward가 dense와 같음"""
    rng = np.random.default_rng([sub.seed, 50 + n_dev])
    d_hidden = 10
    x = rng.standard_normal((2, 3, D_IN))
    W1, b1 = rng.standard_normal((D_IN, d_hidden)) / 3, rng.standard_normal(d_hidden)
    W2, b2 = rng.standard_normal((d_hidden, D_OUT)) / 3, rng.standard_normal(D_OUT)
    G = rng.standard_normal((2, 3, D_OUT))
    what = f"MLP x (2, 3, {D_IN}) -> column-parallel W1 ({D_IN}, {d_hidden}) -> tanh -> row-parallel W2 on {n_dev} devices"
    got = sub.probe("tp_mlp", x, W1, b1, W2, b2, G, n_dev)
    if got["error"]:
        fail(f"{what}: {got['error']}")
    H = np.tanh(x @ W1 + b1)
    y = H @ W2 + b2
    dH = G @ W2.T
    dY = dH * (1 - H * H)
    x2, H2, G2, dY2 = x.reshape(-1, D_IN), H.reshape(-1, d_hidden), G.reshape(-1, D_OUT), dY.reshape(-1, d_hidden)
    check_list(got["y"], [y] * n_dev, "y (row_parallel_forward after column_parallel_forward)", what)
    check_list(got["dx"], [dY @ W1.T] * n_dev, "dx (column_parallel_backward, all-reduced)", what)
    check_list(got["dW1"], blocks(x2.T @ dY2, n_dev, 1), "dW1 shards", what)
    check_list(got["db1"], blocks(dY2.sum(axis=0), n_dev, 0), "db1 shards", what)
    check_list(got["dW2"], blocks(H2.T @ G2, n_dev, 0), "dW2 shards", what)
    if isinstance(got["db2"], str):
        fail(f"db2: expected a NumPy array, got {got['db2']} ({what})")
    assert_close(got["db2"], G2.sum(axis=0), **TOL, what="db2", inputs={"case": what})
