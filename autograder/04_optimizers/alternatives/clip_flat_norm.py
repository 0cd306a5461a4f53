# alternative: global norm from one flattened vector (torch.cat) and an in-place multiply by min(1, coef)
# replaces: clip_impl
def clip_grad_norm_(params, max_norm):
    """Scale the gradients of params IN PLACE so that their global L2 norm is at most max_norm."""
    grads = [p.grad for p in list(params) if p.grad is not None]
    if not grads:
        return 0.0
    total = torch.cat([g.reshape(-1) for g in grads]).norm(2)
    coef = max_norm / (float(total) + 1e-6)
    if coef < 1.0:
        for g in grads:
            g.mul_(coef)
    return float(total)
