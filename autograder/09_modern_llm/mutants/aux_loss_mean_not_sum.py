# mutant: load_balancing_loss averages f_i P_i over the experts instead of summing them
# replaces: moe_impl
# breaks: moe
# replace:
    return alpha * n_experts * (f * P).sum()
# with:
    return alpha * n_experts * (f * P).mean()                      # BUG: mean over experts (1/N too small)
