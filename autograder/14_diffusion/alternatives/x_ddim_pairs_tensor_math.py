# alternative: ddim_step in tensor arithmetic (float64 scalars as tensors); ddim_sample over (t, t_prev) pairs
# replaces: ddim_impl
# replace:
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
# with:
    ab_t = torch.as_tensor(alpha_bar_t, dtype=torch.float64)
    ab_prev = torch.as_tensor(alpha_bar_prev, dtype=torch.float64)
    x0_hat = (x_t - torch.sqrt(1 - ab_t).to(x_t.dtype) * eps) / torch.sqrt(ab_t).to(x_t.dtype)
    sigma = eta * torch.sqrt((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev))
    coef = torch.sqrt(torch.clamp(1 - ab_prev - sigma ** 2, min=0.0))
    x_prev = torch.sqrt(ab_prev).to(x_t.dtype) * x0_hat + coef.to(x_t.dtype) * eps
    if eta > 0 and float(sigma) > 0:
        x_prev = x_prev + sigma.to(x_t.dtype) * (torch.randn_like(x_t) if noise is None else noise)
    return x_prev
# replace:
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
# with:
    steps = [int(t) for t in timesteps]
    x = x_T
    for t, t_prev in zip(steps, steps[1:] + [None]):
        ab_prev = 1.0 if t_prev is None else alpha_bar[t_prev]
        with torch.no_grad():
            eps = model(x, torch.full((x.shape[0],), t, dtype=torch.long))
        noise = None if eta == 0 else torch.randn(x.shape, generator=generator, dtype=x.dtype)
        x = ddim_step(x, eps, alpha_bar[t], ab_prev, eta, noise)
    return x
