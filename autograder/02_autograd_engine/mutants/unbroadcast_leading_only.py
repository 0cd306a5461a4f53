# mutant: only sums the prepended leading axes, never the stretched size-1 axes
# replaces: unbroadcast_impl
# breaks: unbroadcast
# replace:
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
# with:
    return grad
