# mutant: velocity target x0 - x1 (the sign of the convention x_t = (1-t) x0 + t x1 flipped)
# replaces: flow_impl
# breaks: rectified_flow
def rf_interpolate(x0, x1, t):
    """x_t = (1 - t) * x0 + t * x1; x0, x1: (B, ...), t: (B,) broadcast over the other axes."""
    t = t.reshape(-1, *[1] * (x0.dim() - 1))
    return (1 - t) * x0 + t * x1


def velocity_target(x0, x1):
    """d x_t / dt along the straight path from the noise x0 to the data x1."""
    return x0 - x1


def flow_matching_loss(model, x0, x1, t):
    """Mean over all elements of (model(x_t, t) - (x1 - x0))^2, a 0-d tensor; model is called once."""
    x_t = rf_interpolate(x0, x1, t)
    v_pred = model(x_t, t)
    return ((v_pred - velocity_target(x0, x1)) ** 2).mean()
