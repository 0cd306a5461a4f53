# mutant: clipping each gradient by its own norm instead of the global norm
# replaces: clip_impl
# breaks: clip_grad_norm
def clip_grad_norm_(params, max_norm):
    """Scale the gradients of params IN PLACE so that their global L2 norm is at most max_norm."""
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    for g in grads:
        coef = max_norm / (torch.linalg.vector_norm(g) + 1e-6)   # BUG: per tensor
        if coef < 1:
            g.mul_(coef)
    return total
