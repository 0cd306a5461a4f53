# mutant: Adam with eps inside the square root, sqrt(v_hat + eps)
# replaces: adam_impl
# breaks: adam
def adam_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    """One step of torch.optim.Adam (weight_decay=0, amsgrad=False) on the tensor p, in place."""
    beta1, beta2 = betas
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
    state["step"] += 1
    t = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m.mul_(beta1).add_(g, alpha=1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p.sub_(lr * m_hat / (v_hat + eps).sqrt())           # BUG: eps under the root
