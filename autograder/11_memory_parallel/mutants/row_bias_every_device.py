# mutant: row-parallel forward adds the bias to every partial sum before the all-reduce (bias counted N times)
# replaces: tp_impl
# breaks: tensor_parallel
def column_parallel_forward(x, W_shards, b_shards):
    """Column-parallel linear: device i holds W_i (d_in, d_out_i), b_i (d_out_i,) and the whole input x (..., d_in).
    Returns [x @ W_i + b_i for each device]: the output's column blocks. No communication."""
    return [x @ W + b for W, b in zip(W_shards, b_shards)]


def column_parallel_backward(x, W_shards, dY_shards):
    """Backward of column_parallel_forward for upstream gradients dY_i = dL/dY_i (..., d_out_i).
    Returns (dx, dW_shards, db_shards); dx is a list with one (all-reduced, equal) dL/dx per device."""
    d_in = x.shape[-1]
    x2 = x.reshape(-1, d_in)
    dW_shards, db_shards, partial_dx = [], [], []
    for W, dY in zip(W_shards, dY_shards):
        dY2 = dY.reshape(-1, W.shape[1])
        dW_shards.append(x2.T @ dY2)
        db_shards.append(dY2.sum(axis=0))
        partial_dx.append(dY @ W.T)
    return all_reduce(partial_dx), dW_shards, db_shards


def row_parallel_forward(x_shards, W_shards, b):
    """Row-parallel linear: device i holds x_i (..., d_in_i), W_i (d_in_i, d_out) and the bias b (d_out,).
    Returns one full output x @ W + b per device: partial sums all-reduced, the bias added once."""
    partial = [x @ W + b for x, W in zip(x_shards, W_shards)]
    return all_reduce(partial)


def row_parallel_backward(x_shards, W_shards, dy):
    """Backward of row_parallel_forward for the upstream gradient dy = dL/dy (..., d_out), the same on every device.
    Returns (dx_shards, dW_shards, db): dL/dx_i, dL/dW_i per device and dL/db. No communication."""
    d_out = dy.shape[-1]
    dy2 = dy.reshape(-1, d_out)
    dx_shards = [dy @ W.T for W in W_shards]
    dW_shards = [x.reshape(-1, x.shape[-1]).T @ dy2 for x in x_shards]
    db = dy2.sum(axis=0)
    return dx_shards, dW_shards, db
