# mutant: DDIM with sigma computed without the factor eta: at eta = 0 the step still adds noise (DDPM-like)
# replaces: ddim_impl
# breaks: ddim
def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """One DDIM step."""
    ab_t, ab_prev = float(alpha_bar_t), float(alpha_bar_prev)
    x0_hat = (x_t - math.sqrt(1.0 - ab_t) * eps) / math.sqrt(ab_t)
    sigma = math.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)   # BUG: eta * missing
    direction = math.sqrt(max(1.0 - ab_prev - sigma ** 2, 0.0)) * eps
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(ab_prev) * x0_hat + direction + sigma * noise


def ddim_sample(model, x_T, timesteps, alpha_bar, eta=0.0, generator=None):
    """DDIM sampling loop."""
    steps = [int(t) for t in timesteps]
    x = x_T
    with torch.no_grad():
        for i, t in enumerate(steps):
            ab_t = alpha_bar[t]
            ab_prev = alpha_bar[steps[i + 1]] if i + 1 < len(steps) else 1.0
            eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) if eta > 0 else None
            x = ddim_step(x, eps, ab_t, ab_prev, eta, noise)
    return x
