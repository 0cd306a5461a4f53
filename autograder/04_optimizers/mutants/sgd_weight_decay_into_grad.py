# mutant: adds the weight decay into the caller's g in place
# replaces: sgd_impl
# breaks: sgd_momentum
# replace:
    d_p = g if weight_decay == 0 else g + weight_decay * p
# with:
    d_p = g if weight_decay == 0 else g.add_(p, alpha=weight_decay)
