# mutant: DDIM sigma without the square root on (1 - ab_prev) / (1 - ab_t)
# replaces: ddim_impl
# breaks: ddim
# replace:
    sigma = eta * math.sqrt((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)
# with:
    sigma = eta * ((1.0 - ab_prev) / (1.0 - ab_t)) * math.sqrt(1.0 - ab_t / ab_prev)   # BUG: no sqrt
