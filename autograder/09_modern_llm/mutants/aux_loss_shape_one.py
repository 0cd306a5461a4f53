# mutant: load_balancing_loss returns shape (1,) instead of a 0-d tensor
# replaces: moe_impl
# breaks: moe
# replace:
    return alpha * n_experts * (f * P).sum()
# with:
    return alpha * n_experts * (f * P).sum().reshape(1)            # BUG: (1,), the docstring says 0-d
