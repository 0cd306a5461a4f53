# mutant: ddim_sample's last step goes to alpha_bar[0] instead of alpha_bar_prev = 1
# replaces: ddim_impl
# breaks: ddim
# replace:
            ab_prev = alpha_bar[steps[i + 1]] if i + 1 < len(steps) else 1.0
# with:
            ab_prev = alpha_bar[steps[i + 1]] if i + 1 < len(steps) else alpha_bar[0]   # BUG: one step short
