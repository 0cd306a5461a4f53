# mutant: the DDIM loop stops at the last timestep instead of taking one more step to alpha_bar_prev = 1
# replaces: ddim_impl
# breaks: ddim
# replace:
        for i, t in enumerate(steps):
            ab_t = alpha_bar[t]
            ab_prev = alpha_bar[steps[i + 1]] if i + 1 < len(steps) else 1.0
# with:
        for t, t_next in zip(steps[:-1], steps[1:]):                       # BUG: no final step to alpha_bar = 1

# replace:
            x = ddim_step(x, eps, ab_t, ab_prev, eta, noise)
# with:
            x = ddim_step(x, eps, alpha_bar[t], alpha_bar[t_next], eta, noise)
