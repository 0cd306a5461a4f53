# mutant: AdamW decays the weights after the Adam step instead of before it
# replaces: adamw_impl
# breaks: adamw
# replace:
    p.mul_(1 - lr * weight_decay)
    adam_update(p, g, state, lr, betas=betas, eps=eps)
# with:
    adam_update(p, g, state, lr, betas=betas, eps=eps)
    p.mul_(1 - lr * weight_decay)
