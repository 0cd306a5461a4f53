# mutant: "AdamW" as Adam with L2 folded into the gradient (g + wd * p) instead of decoupled decay
# replaces: adamw_impl
# breaks: adamw
# replace:
    """One step of torch.optim.AdamW (amsgrad=False) on the tensor p, in place.

    p <- p * (1 - lr * weight_decay)           decoupled decay, NOT added to the gradient
    then the Adam step of adam_update with the gradient g itself.
    """
    ### BEGIN SOLUTION
    p.mul_(1 - lr * weight_decay)
    adam_update(p, g, state, lr, betas=betas, eps=eps)
# with:
    adam_update(p, g + weight_decay * p, state, lr, betas=betas, eps=eps)   # BUG: decay divided by sqrt(v_hat)
