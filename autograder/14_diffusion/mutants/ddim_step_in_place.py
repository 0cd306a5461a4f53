# mutant: ddim_step computes x0_hat by subtracting from x_t in place: x_prev is right, the caller's x_t is destroyed
# replaces: ddim_impl
# breaks: ddim
# replace:
    x0_hat = (x_t - math.sqrt(1.0 - ab_t) * eps) / math.sqrt(ab_t)
# with:
    x0_hat = x_t.sub_(math.sqrt(1.0 - ab_t) * eps).div_(math.sqrt(ab_t))
