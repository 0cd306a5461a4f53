# mutant: ddpm_loss gives the model t + 1 (1-indexed steps) while x_t was noised at t
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
# replace:
    eps_pred = model(x_t, t)
# with:
    eps_pred = model(x_t, t + 1)                                     # BUG: off by one
