# alternative: add and mul reduce broadcast gradients themselves (np.sum over the stretched axes), without unbroadcast
# replaces: add_mul_impl
def _reduce_to(g, shape):
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return np.sum(g, axis=axes, keepdims=True).reshape(shape) if axes else g


def add(a, b):
    """a + b elementwise, with NumPy broadcasting."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(np.add(a.data, b.data), (a, b), "+")

    def _backward():
        for t in (a, b):
            t._accumulate_grad(_reduce_to(out.grad, t.shape))

    out._backward = _backward
    return out


def mul(a, b):
    """a * b elementwise, with NumPy broadcasting."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(np.multiply(a.data, b.data), (a, b), "*")

    def _backward():
        a._accumulate_grad(_reduce_to(np.multiply(out.grad, b.data), a.shape))
        b._accumulate_grad(_reduce_to(np.multiply(out.grad, a.data), b.shape))

    out._backward = _backward
    return out


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
