# mutant: broadcasts dL/dout back without re-inserting the reduced axes (keepdims=False)
# replaces: sum_mean_impl
# breaks: ops_sum_mean
def _reduced_axes(ndim, axis):
    """axis (None, an int or a tuple of ints; negatives allowed) as a sorted tuple of axes >= 0."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(ax) % ndim for ax in axis))


def reduce_sum(x, axis=None, keepdims=False):
    """x.sum(axis, keepdims) as in NumPy.
    Each input element is added into one output element once, so dL/dx is dL/dout copied
    (broadcast) back over the reduced axes."""
    x = as_tensor(x)
    axes = _reduced_axes(x.ndim, axis)
    out = make_result(x.data.sum(axis=axes, keepdims=keepdims), (x,), "sum")

    def _backward():
        g = out.grad                   # BUG: reduced axes not restored
        x._accumulate_grad(np.broadcast_to(g, x.shape))

    out._backward = _backward
    return out


def reduce_mean(x, axis=None, keepdims=False):
    """x.mean(axis, keepdims) as in NumPy: the sum divided by N, the number of elements
    averaged into each output.  dL/dx = (dL/dout broadcast back over the reduced axes) / N."""
    x = as_tensor(x)
    axes = _reduced_axes(x.ndim, axis)
    n = int(np.prod([x.shape[ax] for ax in axes]))
    out = make_result(x.data.sum(axis=axes, keepdims=keepdims) / n, (x,), "mean")

    def _backward():
        g = out.grad                   # BUG: reduced axes not restored
        x._accumulate_grad(np.broadcast_to(g, x.shape) / n)

    out._backward = _backward
    return out


Tensor.sum = reduce_sum
Tensor.mean = reduce_mean
