# mutant: "AdamW" as Adam with L2 folded into the gradient (g + wd * p) instead of decoupled decay
# replaces: adamw_impl
# breaks: adamw
def adamw_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW (amsgrad=False) on the tensor p, in place."""
    adam_update(p, g + weight_decay * p, state, lr, betas=betas, eps=eps)   # BUG: decay divided by sqrt(v_hat)
