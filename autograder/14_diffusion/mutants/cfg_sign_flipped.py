# mutant: guidance sign flipped: eps_uncond + w * (eps_uncond - eps_cond) pushes away from the condition
# replaces: cfg_impl
# breaks: cfg
def cfg_combine(eps_uncond, eps_cond, w):
    """Classifier-free guidance."""
    return eps_uncond + w * (eps_uncond - eps_cond)                      # BUG: should be (eps_cond - eps_uncond)


def guided_eps(model, x_t, t, y, w, null_label):
    """The guided noise prediction of a conditional model(x_t, t, y)."""
    eps_cond = model(x_t, t, y)
    eps_uncond = model(x_t, t, torch.full_like(y, null_label))
    return cfg_combine(eps_uncond, eps_cond, w)
