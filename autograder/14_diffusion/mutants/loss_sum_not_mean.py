# mutant: ddpm_loss sums the squared errors instead of averaging them over all elements
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
# replace:
    return ((noise - eps_pred) ** 2).mean()
# with:
    return ((noise - eps_pred) ** 2).sum()
