# alternative: Linear with einsum/tensordot over any leading axes, no reshape
# replaces: linear_impl
class Linear(Module):
    """y = x @ W + b for x of shape (..., in_features)."""

    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)                   # PyTorch's default init
        self.params["W"] = rng.uniform(-bound, bound, (in_features, out_features))
        self.params["b"] = rng.uniform(-bound, bound, out_features)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x):
        self.x = np.array(x, dtype=np.float64)
        return np.einsum("...i,io->...o", self.x, self.params["W"]) + self.params["b"]

    def backward(self, grad_out):
        lead = tuple(range(np.ndim(grad_out) - 1))
        self.grads["W"] = np.tensordot(self.x, grad_out, axes=(lead, lead))
        self.grads["b"] = np.sum(grad_out, axis=lead)
        return np.einsum("...o,io->...i", grad_out, self.params["W"])
