# alternative: the reduced axes put back with reshape (size-1 axes) instead of expand_dims; mean as sum times 1/N
# replaces: sum_mean_impl
def _reduced_axes(ndim, axis):
    """axis (None, an int or a tuple of ints; negatives allowed) as a sorted tuple of axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(ax) % ndim for ax in axis))


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduce_sum(x, axis=None, keepdims=False):
    """x.sum(axis, keepdims) as in NumPy."""
    x = as_tensor(x)
    axes = _reduced_axes(x.ndim, axis)
    value = np.sum(x.data, axis=axes, keepdims=True)
    out = make_result(value if keepdims else value.reshape([n for i, n in enumerate(value.shape) if i not in axes]),
                      (x,), "sum")

    def _backward():
        x._accumulate_grad(np.broadcast_to(np.reshape(out.grad, _kept_shape(x.shape, axes)), x.shape))

    out._backward = _backward
    return out


def reduce_mean(x, axis=None, keepdims=False):
    """x.mean(axis, keepdims) as in NumPy."""
    x = as_tensor(x)
    axes = _reduced_axes(x.ndim, axis)
    scale = 1.0 / float(np.prod([x.shape[ax] for ax in axes]))
    out = make_result(np.mean(x.data, axis=axes, keepdims=keepdims), (x,), "mean")

    def _backward():
        x._accumulate_grad(scale * np.broadcast_to(np.reshape(out.grad, _kept_shape(x.shape, axes)), x.shape))

    out._backward = _backward
    return out


Tensor.sum = reduce_sum
Tensor.mean = reduce_mean
