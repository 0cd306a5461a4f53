# mutant: sums the stretched size-1 axes without keepdims, so (3, 1) comes back as (3,)
# replaces: unbroadcast_impl
# breaks: unbroadcast
# replace:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
# with:
        grad = grad.sum(axis=stretched)            # BUG: drops the axes
    return grad
