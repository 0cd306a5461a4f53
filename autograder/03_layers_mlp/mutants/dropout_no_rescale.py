# mutant: dropout without the 1/(1-p) scaling of the kept elements
# replaces: dropout_impl
# breaks: dropout
class Dropout(Module):
    """Inverted dropout with drop probability p (0 <= p < 1).

    training: draw u = self.rng.random(x.shape), keep where u >= p, y = x * keep / (1 - p);
              a fresh mask on every forward call; backward uses that same mask.
    eval    : y = x, dL/dx = G.
    No parameters.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.rng = np.random.default_rng(0) if rng is None else rng

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        if not self.training:
            self.scale = None
            return x
        keep = self.rng.random(x.shape) >= self.p
        self.scale = keep.astype(np.float64)                # BUG: no 1/(1-p)
        return x * self.scale

    def backward(self, grad_out):
        if self.scale is None:
            return grad_out
        return grad_out * self.scale
