# mutant: ddpm_loss feeds the clean x0 to the model instead of the noised x_t
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
def ddpm_loss(model, x0, t, noise, betas):
    """L_simple."""
    eps_pred = model(x0, t)                                               # BUG: should be model(q_sample(...), t)
    return ((noise - eps_pred) ** 2).mean()
