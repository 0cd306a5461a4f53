# mutant: matmul's backward uses ones instead of the upstream gradient
# replaces: matmul_impl
# breaks: ops_matmul
def matmul(a, b):
    """a @ b for a 2-D a of shape (n, k) and a 2-D b of shape (k, m).

    dL/dA = dL/dOut @ B^T      (n, m) @ (m, k) -> (n, k)
    dL/dB = A^T @ dL/dOut      (k, n) @ (n, m) -> (k, m)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"matmul expects two 2-D Tensors, got shapes {a.shape} and {b.shape}")
    out = make_result(a.data @ b.data, (a, b), "@")

    def _backward():
        a._accumulate_grad(np.ones_like(out.grad) @ b.data.T)
        b._accumulate_grad(a.data.T @ np.ones_like(out.grad))

    out._backward = _backward
    return out


Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
