# alternative: interpolation with torch.lerp, the loss with F.mse_loss, and the Euler times from torch.linspace
# replaces: flow_impl
def rf_interpolate(x0, x1, t):
    """x_t = (1 - t) * x0 + t * x1; x0, x1: (B, ...), t: (B,) broadcast over the other axes."""
    return torch.lerp(x0, x1, t.view(t.shape[0], *([1] * (x0.ndim - 1))).expand_as(x0))


def velocity_target(x0, x1):
    """d x_t / dt along the straight path from the noise x0 to the data x1."""
    return torch.sub(x1, x0)


def flow_matching_loss(model, x0, x1, t):
    """Mean over all elements of (model(x_t, t) - (x1 - x0))^2, a 0-d tensor; model is called once."""
    return F.mse_loss(model(rf_interpolate(x0, x1, t), t), velocity_target(x0, x1))
