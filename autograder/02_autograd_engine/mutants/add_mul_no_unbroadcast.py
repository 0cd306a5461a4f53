# mutant: add and mul pass the broadcast-shaped gradient to their inputs unreduced
# replaces: add_mul_impl
# breaks: ops_add_mul
def add(a, b):
    """a + b elementwise, with NumPy broadcasting.   d(a+b)/da = 1,  d(a+b)/db = 1."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(a.data + b.data, (a, b), "+")

    def _backward():
        a._accumulate_grad(out.grad)
        b._accumulate_grad(out.grad)

    out._backward = _backward
    return out


def mul(a, b):
    """a * b elementwise, with NumPy broadcasting.   d(a*b)/da = b,  d(a*b)/db = a."""
    a, b = as_tensor(a), as_tensor(b)
    out = make_result(a.data * b.data, (a, b), "*")

    def _backward():
        a._accumulate_grad(out.grad * b.data)
        b._accumulate_grad(out.grad * a.data)

    out._backward = _backward
    return out


Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__mul__ = mul
Tensor.__rmul__ = lambda self, other: mul(other, self)
