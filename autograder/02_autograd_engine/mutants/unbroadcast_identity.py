# mutant: unreduced broadcast gradient: returns grad unchanged
# replaces: unbroadcast_impl
# breaks: unbroadcast
def unbroadcast(grad, shape):
    """Reduce `grad`, the gradient of a broadcast result, to the operand's `shape`.

    grad.shape is the broadcast shape, `shape` the operand's shape before broadcasting:
    1. sum over the leading axes that broadcasting prepended (grad.ndim - len(shape) of them),
    2. sum with keepdims=True over every axis where `shape` has 1 but grad does not.
    Returns an np.ndarray of exactly `shape` (a tuple; () for a scalar).
    """
    return np.asarray(grad, dtype=np.float64)   # BUG: no reduction at all
