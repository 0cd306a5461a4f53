# alternative: reduce one axis at a time in loops
# replaces: unbroadcast_impl
def unbroadcast(grad, shape):
    """Reduce `grad`, the gradient of a broadcast result, to the operand's `shape`."""
    out = np.array(grad, dtype=np.float64)
    while out.ndim > len(shape):
        out = out.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and out.shape[axis] != 1:
            out = out.sum(axis=axis, keepdims=True)
    return np.asarray(out).reshape(tuple(shape))
