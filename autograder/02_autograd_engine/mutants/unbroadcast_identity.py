# mutant: unreduced broadcast gradient: returns grad unchanged
# replaces: unbroadcast_impl
# breaks: unbroadcast
# replace:
    grad = np.asarray(grad, dtype=np.float64)
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
# with:
    return np.asarray(grad, dtype=np.float64)   # BUG: no reduction at all
