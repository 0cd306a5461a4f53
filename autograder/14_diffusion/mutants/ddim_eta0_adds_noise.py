# mutant: DDIM with sigma computed without the factor eta: at eta = 0 the step still adds noise (DDPM-like)
# replaces: ddim_impl
# breaks: ddim
# replace:
    sigma = eta * math.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)
# with:
    sigma = math.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)   # BUG: eta * missing

# replace:
    x_prev = math.sqrt(ab_prev) * x0_hat + direction
    if sigma > 0:
        if noise is None:
            noise = torch.randn_like(x_t)
        x_prev = x_prev + sigma * noise
    return x_prev
# with:
    if noise is None:
        noise = torch.randn_like(x_t)
    return math.sqrt(ab_prev) * x0_hat + direction + sigma * noise
