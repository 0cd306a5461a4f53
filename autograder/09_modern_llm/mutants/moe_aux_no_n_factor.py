# mutant: load-balancing loss without the N factor (alpha * sum f_i P_i)
# replaces: moe_impl
# breaks: moe
# replace:
    return alpha * n_experts * (f * P).sum()
# with:
    return alpha * (f * P).sum()          # BUG: missing N
