# mutant: relu lets the gradient through at x = 0 (mask x >= 0)
# replaces: relu_impl
# breaks: ops_relu
def relu(x):
    """max(x, 0) elementwise.   d relu(x)/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    x = as_tensor(x)
    out = make_result(np.maximum(x.data, 0.0), (x,), "relu")

    def _backward():
        x._accumulate_grad(out.grad * (x.data >= 0))

    out._backward = _backward
    return out


Tensor.relu = relu
