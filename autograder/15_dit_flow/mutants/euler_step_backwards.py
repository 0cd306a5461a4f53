# mutant: Euler step against the velocity: x - dt * v
# replaces: euler_impl
# breaks: euler_sampler
@torch.no_grad()
def euler_sample(velocity_fn, x0, num_steps, return_path=False):
    """Integrate dx/dt = velocity_fn(x, t) from t = 0 (x = x0) to t = 1 with num_steps Euler steps.

    Step k evaluates the velocity at t_k = k / num_steps (a (B,) tensor) and moves by dt = 1 / num_steps.
    Returns x at t = 1, or the whole path (num_steps + 1, B, ...) when return_path is True.
    """
    dt = 1.0 / num_steps
    x = x0
    path = [x]
    for k in range(num_steps):
        t = torch.full((x.shape[0],), k * dt, dtype=x.dtype)
        x = x - dt * velocity_fn(x, t)
        path.append(x)
    return torch.stack(path) if return_path else x
