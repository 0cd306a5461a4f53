# mutant: ddpm_loss detaches the model's prediction: the value is right but no gradient reaches the model
# replaces: ddpm_loss_impl
# breaks: ddpm_loss
# replace:
    eps_pred = model(x_t, t)
# with:
    eps_pred = model(x_t, t).detach()
