# mutant: iterates params twice; when params is a generator (model.parameters()) the second pass is empty
# replaces: clip_impl
# breaks: clip_grad_norm
def clip_grad_norm_(params, max_norm):
    """Scale the gradients of params IN PLACE so that their global L2 norm is at most max_norm."""
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in params if p.grad is not None))
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:                                  # BUG: a generator is exhausted by now
            if p.grad is not None:
                p.grad.mul_(coef)
    return total
