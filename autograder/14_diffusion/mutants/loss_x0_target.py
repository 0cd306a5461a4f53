# mutant: ddpm_loss regresses the model output on x0 instead of on the noise
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
def ddpm_loss(model, x0, t, noise, betas):
    """L_simple."""
    x_t = q_sample(x0, t, noise, betas)
    eps_pred = model(x_t, t)
    return ((x0 - eps_pred) ** 2).mean()                                  # BUG: the target is the noise
