# alternative: tensor-parallel functions with einsum / tensordot over flattened batch axes
# replaces: tp_impl
def column_parallel_forward(x, W_shards, b_shards):
    return [np.einsum("...i,io->...o", x, W) + b for W, b in zip(W_shards, b_shards)]


def column_parallel_backward(x, W_shards, dY_shards):
    batch = tuple(range(x.ndim - 1))
    dW = [np.tensordot(x, dY, axes=(batch, batch)) for dY in dY_shards]
    db = [dY.sum(axis=batch) for dY in dY_shards]
    dx = all_reduce([np.einsum("...o,io->...i", dY, W) for W, dY in zip(W_shards, dY_shards)])
    return dx, dW, db


def row_parallel_forward(x_shards, W_shards, b):
    return [total + b for total in all_reduce([np.einsum("...i,io->...o", x, W) for x, W in zip(x_shards, W_shards)])]


def row_parallel_backward(x_shards, W_shards, dy):
    batch = tuple(range(dy.ndim - 1))
    return ([np.einsum("...o,io->...i", dy, W) for W in W_shards],
            [np.tensordot(x, dy, axes=(batch, batch)) for x in x_shards],
            dy.sum(axis=batch))
