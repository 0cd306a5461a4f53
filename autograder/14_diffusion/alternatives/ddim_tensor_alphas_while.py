# alternative: ddim_step with alpha_bar turned into tensors of x's dtype (float32 arithmetic for float32 x), ddim_sample as a while loop over index pairs
# replaces: ddim_impl
def ddim_step(x_t, eps, alpha_bar_t, alpha_bar_prev, eta=0.0, noise=None):
    """One DDIM step from x_t to x_prev."""
    ab_t = torch.as_tensor(alpha_bar_t, dtype=x_t.dtype)
    ab_prev = torch.as_tensor(alpha_bar_prev, dtype=x_t.dtype)
    x0_hat = (x_t - torch.sqrt(1 - ab_t) * eps) / torch.sqrt(ab_t)
    sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev))
    x_prev = torch.sqrt(ab_prev) * x0_hat + torch.sqrt(torch.clamp(1 - ab_prev - sigma ** 2, min=0)) * eps
    if eta > 0 and float(sigma) > 0:
        x_prev = x_prev + sigma * (torch.randn_like(x_t) if noise is None else noise)
    return x_prev


def ddim_sample(model, x_T, timesteps, alpha_bar, eta=0.0, generator=None):
    """Run ddim_step once per entry of the decreasing 0-indexed `timesteps`."""
    ts = torch.as_tensor(timesteps).tolist()
    x, i = x_T.clone(), 0
    while i < len(ts):
        t = ts[i]
        prev = alpha_bar[ts[i + 1]] if i + 1 < len(ts) else torch.ones((), dtype=alpha_bar.dtype)
        with torch.no_grad():
            eps = model(x, torch.full((x.shape[0],), t, dtype=torch.int64))
        noise = None
        if eta > 0:
            noise = torch.randn(x.shape, generator=generator, dtype=torch.float64).to(x.dtype)
        x = ddim_step(x, eps, alpha_bar[t], prev, eta=eta, noise=noise)
        i += 1
    return x
