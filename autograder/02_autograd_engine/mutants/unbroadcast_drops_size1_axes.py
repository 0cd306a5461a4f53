# mutant: sums the stretched size-1 axes without keepdims, so (3, 1) comes back as (3,)
# replaces: unbroadcast_impl
# breaks: unbroadcast
def unbroadcast(grad, shape):
    """Reduce `grad`, the gradient of a broadcast result, to the operand's `shape`.

    grad.shape is the broadcast shape, `shape` the operand's shape before broadcasting:
    1. sum over the leading axes that broadcasting prepended (grad.ndim - len(shape) of them),
    2. sum with keepdims=True over every axis where `shape` has 1 but grad does not.
    Returns an np.ndarray of exactly `shape` (a tuple; () for a scalar).
    """
    grad = np.asarray(grad, dtype=np.float64)
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched)            # BUG: drops the axes
    return grad
