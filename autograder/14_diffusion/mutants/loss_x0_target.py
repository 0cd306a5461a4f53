# mutant: ddpm_loss regresses the model output on x0 instead of on the noise
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
# replace:
    return ((noise - eps_pred) ** 2).mean()
# with:
    return ((x0 - eps_pred) ** 2).mean()                                  # BUG: the target is the noise
