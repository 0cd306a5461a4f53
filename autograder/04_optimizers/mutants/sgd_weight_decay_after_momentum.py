# mutant: SGD adds weight decay after the momentum buffer instead of to the gradient before it
# replaces: sgd_impl
# breaks: sgd_momentum
# replace:
    d_p = g if weight_decay == 0 else g + weight_decay * p
# with:
    d_p = g

# replace:
        d_p = buf
# with:
        d_p = buf if weight_decay == 0 else buf + weight_decay * p
