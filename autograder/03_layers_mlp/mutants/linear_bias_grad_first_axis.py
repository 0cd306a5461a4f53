# mutant: db sums G over the first axis only (right for 2-D x, wrong shape for (B, T, d) inputs)
# replaces: linear_impl
# breaks: linear
class Linear(Module):
    """y = x @ W + b for x of shape (..., in_features).

    params["W"]: (in_features, out_features), params["b"]: (out_features,)
    backward(G): grads["W"] = x^T G and grads["b"] = G summed over every leading axis
                 (leading axes flattened into rows); returns dL/dx = G @ W^T (shape of x).
    """

    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        bound = 1.0 / np.sqrt(in_features)                   # PyTorch's default init
        self.params["W"] = rng.uniform(-bound, bound, (in_features, out_features))
        self.params["b"] = rng.uniform(-bound, bound, out_features)
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x):
        self.x = np.asarray(x, dtype=np.float64)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, grad_out):
        x2 = self.x.reshape(-1, self.in_features)
        g2 = np.asarray(grad_out, dtype=np.float64).reshape(-1, self.out_features)
        self.grads["W"] = x2.T @ g2
        self.grads["b"] = np.asarray(grad_out, dtype=np.float64).sum(axis=0)   # BUG: only the first axis
        return grad_out @ self.params["W"].T
