# mutant: mul's backward ignores the upstream gradient (only caught with a random dL/dout)
# replaces: add_mul_impl
# breaks: ops_add_mul
def add(a, b):
    """a + b elementwise, with NumPy broadcasting.   d(a+b)/da = 1,  d(a+b)/db = 1."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(a.data + b.data, (a, b), "+")

    def _backward():
        a._accumulate_grad(unbroadcast(out.grad, a.shape))
        b._accumulate_grad(unbroadcast(out.grad, b.shape))

    out._backward = _backward
    return out


def mul(a, b):
    """a * b elementwise, with NumPy broadcasting.   d(a*b)/da = b,  d(a*b)/db = a."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(a.data * b.data, (a, b), "*")

    def _backward():
        a._accumulate_grad(unbroadcast(np.broadcast_to(b.data, out.shape), a.shape))
        b._accumulate_grad(unbroadcast(np.broadcast_to(a.data, out.shape), b.shape))

    out._backward = _backward
    return out


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
