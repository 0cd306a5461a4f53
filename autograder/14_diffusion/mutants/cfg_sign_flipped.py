# mutant: guidance sign flipped: eps_uncond + w * (eps_uncond - eps_cond) pushes away from the condition
# replaces: cfg_impl
# breaks: cfg
# replace:
    return eps_uncond + w * (eps_cond - eps_uncond)
# with:
    return eps_uncond + w * (eps_uncond - eps_cond)                      # BUG: should be (eps_cond - eps_uncond)
