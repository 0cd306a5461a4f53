# mutant: textbook velocity form v = mu * v - lr * g, p += v (equal to PyTorch only while lr is constant)
# replaces: sgd_impl
# breaks: sgd_momentum
def sgd_momentum_update(p, g, state, lr, momentum=0.0, weight_decay=0.0):
    """One step of torch.optim.SGD (dampening=0, nesterov=False) on the tensor p, in place."""
    d_p = g if weight_decay == 0 else g + weight_decay * p
    v = state.get("velocity")
    v = -lr * d_p if v is None else momentum * v - lr * d_p      # BUG: old lrs stay inside v
    state["velocity"] = v
    p.add_(v)
