# mutant: sgd_step rebinds a local name (p = p - lr * g) instead of updating the layer's array
# replaces: mlp_impl
# breaks: mlp_train
class MLP(Module):
    """Linear -> ReLU -> ... -> Linear for sizes = [d0, d1, ..., dK] (no ReLU after the last Linear).

    self.layers: the layers in the order they are applied; every Linear is built with the given rng.
    """

    def __init__(self, sizes, rng=None):
        super().__init__()
        rng = np.random.default_rng(0) if rng is None else rng
        self.layers = []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Linear(d_in, d_out, rng))
            if i < len(sizes) - 2:
                self.layers.append(ReLU())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out


def sgd_step(model, lr):
    """Plain gradient descent, IN PLACE: p -= lr * dL/dp for every parameter of every layer."""
    for layer in model.layers:
        for name, p in layer.params.items():
            p = p - lr * layer.grads[name]             # BUG: only the local name changes


def train_mlp(model, X, y, steps, lr):
    """Full-batch training with cross_entropy and sgd_step; returns the list of the `steps` losses,
    each computed before that step's update."""
    losses = []
    for _ in range(steps):
        loss, dlogits = cross_entropy(model.forward(X), y)
        model.backward(dlogits)
        sgd_step(model, lr)
        losses.append(loss)
    return losses
