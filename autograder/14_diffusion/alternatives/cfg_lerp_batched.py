# alternative: CFG with torch.lerp and ONE batched model call for the conditional and unconditional labels
# replaces: cfg_impl
def cfg_combine(eps_uncond, eps_cond, w):
    """Classifier-free guidance: eps_uncond + w * (eps_cond - eps_uncond) (w = 0: unconditional, w = 1: conditional)."""
    return torch.lerp(eps_uncond, eps_cond, float(w))


def guided_eps(model, x_t, t, y, w, null_label):
    """The guided noise prediction of a conditional model(x_t, t, y), both passes in one batch."""
    B = x_t.shape[0]
    labels = torch.cat([y, torch.full_like(y, null_label)])
    both = model(torch.cat([x_t, x_t]), torch.cat([t, t]), labels)
    eps_cond, eps_uncond = both[:B], both[B:]
    return cfg_combine(eps_uncond, eps_cond, w)
