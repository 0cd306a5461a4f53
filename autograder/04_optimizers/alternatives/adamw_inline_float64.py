# alternative: AdamW written out in full (no call to adam_update), the moments kept in float64 NumPy arrays
# replaces: adamw_impl
def adamw_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW (amsgrad=False) on the tensor p, in place."""
    beta1, beta2 = betas
    gn = g.detach().cpu().numpy().astype(np.float64)
    if not state:
        state.update(t=0, m=np.zeros_like(gn), v=np.zeros_like(gn))
    state["t"] += 1
    state["m"] = beta1 * state["m"] + (1 - beta1) * gn
    state["v"] = beta2 * state["v"] + (1 - beta2) * gn * gn
    m_hat = state["m"] / (1 - beta1 ** state["t"])
    v_hat = state["v"] / (1 - beta2 ** state["t"])
    p.mul_(1 - lr * weight_decay)
    p.sub_(torch.as_tensor(lr * m_hat / (np.sqrt(v_hat) + eps), dtype=p.dtype))
