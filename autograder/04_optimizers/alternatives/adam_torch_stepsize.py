# alternative: Adam in torch.optim's arrangement: step size lr / (1 - beta1^t), denominator sqrt(v) / sqrt(1 - beta2^t) + eps, lerp for m
# replaces: adam_impl
def adam_update(p, g, state, lr, betas=(0.9, 0.999), eps=1e-8):
    """One step of torch.optim.Adam (weight_decay=0, amsgrad=False) on the tensor p, in place."""
    beta1, beta2 = betas
    if "m" not in state:
        state["t"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
    state["t"] += 1
    t = state["t"]
    state["m"].lerp_(g, 1 - beta1)
    state["v"].mul_(beta2).addcmul_(g, g, value=1 - beta2)
    bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
    denom = state["v"].sqrt() / math.sqrt(bias2) + eps
    p.addcdiv_(state["m"], denom, value=-lr / bias1)
