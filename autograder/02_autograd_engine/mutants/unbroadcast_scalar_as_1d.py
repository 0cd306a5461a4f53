# mutant: unbroadcast to a scalar operand returns shape (1,) instead of ()
# replaces: unbroadcast_impl
# breaks: unbroadcast
# replace:
    return grad.reshape(shape)
# with:
    return grad.reshape(shape) if shape else np.array([grad.sum()])
