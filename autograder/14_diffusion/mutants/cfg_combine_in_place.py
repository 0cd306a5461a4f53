# mutant: cfg_combine accumulates into eps_uncond in place: the guided values are right, the caller's eps_uncond is overwritten
# replaces: cfg_impl
# breaks: cfg
# replace:
    return eps_uncond + w * (eps_cond - eps_uncond)
# with:
    return eps_uncond.add_(w * (eps_cond - eps_uncond))
