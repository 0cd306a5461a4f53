# mutant: the unconditional pass uses label 0 instead of null_label (right only when the null label happens to be 0)
# replaces: cfg_impl
# breaks: cfg
# replace:
    eps_uncond = model(x_t, t, torch.full_like(y, null_label))
# with:
    eps_uncond = model(x_t, t, torch.zeros_like(y))
