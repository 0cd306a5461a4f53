# mutant: ddpm_loss feeds the clean x0 to the model instead of the noised x_t
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
# replace:
    """L_simple: the mean over all elements of (noise - model(x_t, t))^2 with x_t = q_sample(x0, t, noise, betas).

    model: callable (x_t, t) -> predicted noise of x_t's shape. x0, noise: (B, ...); t: int64 (B,), 0-indexed.
    Returns a 0-d tensor that is differentiable with respect to the model's parameters.
    """
    ### BEGIN SOLUTION
    x_t = q_sample(x0, t, noise, betas)
    eps_pred = model(x_t, t)
# with:
    eps_pred = model(x0, t)                                               # BUG: should be model(q_sample(...), t)
