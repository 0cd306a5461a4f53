# mutant: the DDIM loop stops at the last timestep instead of taking one more step to alpha_bar_prev = 1
# replaces: ddim_impl
# breaks: ddim
def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """One DDIM step."""
    ab_t, ab_prev = float(alpha_bar_t), float(alpha_bar_prev)
    x0_hat = (x_t - math.sqrt(1.0 - ab_t) * eps) / math.sqrt(ab_t)
    sigma = eta * math.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)
    direction = math.sqrt(max(1.0 - ab_prev - sigma ** 2, 0.0)) * eps
    x_prev = math.sqrt(ab_prev) * x0_hat + direction
    if sigma > 0:
        if noise is None:
            noise = torch.randn_like(x_t)
        x_prev = x_prev + sigma * noise
    return x_prev


def ddim_sample(model, x_T, timesteps, alpha_bar, eta=0.0, generator=None):
    """DDIM sampling loop."""
    steps = [int(t) for t in timesteps]
    x = x_T
    with torch.no_grad():
        for t, t_next in zip(steps[:-1], steps[1:]):                       # BUG: no final step to alpha_bar = 1
            eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else None
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar[t_next], eta, noise)
    return x
