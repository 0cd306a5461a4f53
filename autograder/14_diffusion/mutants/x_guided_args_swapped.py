# mutant: guided_eps passes the conditional prediction as the unconditional one and vice versa
# replaces: cfg_impl
# breaks: cfg
# replace:
    return cfg_combine(eps_uncond, eps_cond, w)
# with:
    return cfg_combine(eps_cond, eps_uncond, w)                         # BUG: swapped
