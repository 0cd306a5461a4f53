# alternative: the Euler times from torch.linspace, expanded to (B,), and the path collected as a preallocated tensor
# replaces: euler_impl
@torch.no_grad()
def euler_sample(velocity_fn, x0, num_steps, return_path=False):
    """Integrate dx/dt = velocity_fn(x, t) from t = 0 (x = x0) to t = 1 with num_steps Euler steps."""
    times = torch.linspace(0.0, 1.0, num_steps + 1, dtype=x0.dtype)
    path = torch.empty((num_steps + 1,) + tuple(x0.shape), dtype=x0.dtype)
    path[0] = x0
    x = x0.clone()
    for k in range(num_steps):
        dt = times[k + 1] - times[k]
        x = x + dt * velocity_fn(x, times[k].expand(x.shape[0]))
        path[k + 1] = x
    return path if return_path else x
