# alternative: dropout with np.where and a stored boolean mask
# replaces: dropout_impl
class Dropout(Module):
    """Inverted dropout with drop probability p (0 <= p < 1)."""

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(0) if rng is None else rng

    def forward(self, x):
        self.mask = None
        if not self.training:
            return np.array(x, dtype=np.float64)
        self.mask = self.rng.random(np.shape(x)) >= self.p
        return np.where(self.mask, np.asarray(x, dtype=np.float64) / (1.0 - self.p), 0.0)

    def backward(self, grad_out):
        if self.mask is None:
            return grad_out
        return np.where(self.mask, grad_out / (1.0 - self.p), 0.0)
