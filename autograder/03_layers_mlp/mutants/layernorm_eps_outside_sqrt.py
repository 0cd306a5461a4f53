# mutant: eps added outside the square root: (x - mu) / (sqrt(var) + eps)
# replaces: layernorm_impl
# breaks: layernorm
class LayerNorm(Module):
    """Normalize over the LAST axis, then scale and shift:
        y = gamma * (x - mean) / sqrt(var + eps) + beta      (biased var, eps inside the sqrt)

    params["gamma"]: (dim,) initialised to ones, params["beta"]: (dim,) initialised to zeros.
    Works for x of shape (..., dim); gamma/beta grads are summed over every leading axis.
    """

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.params["gamma"] = np.ones(dim)
        self.params["beta"] = np.zeros(dim)
        self.dim, self.eps = dim, eps

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        mu = x.mean(axis=-1, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / (np.sqrt(var) + self.eps)      # BUG: eps outside the sqrt
        self.xhat = xc * self.inv_std
        return self.params["gamma"] * self.xhat + self.params["beta"]

    def backward(self, grad_out):
        grad_out = np.asarray(grad_out, dtype=np.float64)
        lead = tuple(range(grad_out.ndim - 1))
        self.grads["gamma"] = (grad_out * self.xhat).sum(axis=lead)
        self.grads["beta"] = grad_out.sum(axis=lead)
        g = grad_out * self.params["gamma"]
        return self.inv_std * (g - g.mean(axis=-1, keepdims=True)
                               - self.xhat * (g * self.xhat).mean(axis=-1, keepdims=True))
