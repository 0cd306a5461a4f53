# mutant: ddim_sample calls ddim_step without passing eta: every sample is the deterministic eta = 0 one
# replaces: ddim_impl
# breaks: ddim
# replace:
            x = ddim_step(x, eps, ab_t, ab_prev, eta, noise)
# with:
            x = ddim_step(x, eps, ab_t, ab_prev)
