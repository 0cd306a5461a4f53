# mutant: iterates params twice; when params is a generator (model.parameters()) the second pass is empty
# replaces: clip_impl
# breaks: clip_grad_norm
# replace:
    """Scale the gradients of params IN PLACE so that their global L2 norm is at most max_norm.

    total = sqrt(sum over params with a grad of ||p.grad||^2)      (the norm BEFORE clipping)
    coef  = max_norm / (total + 1e-6); if coef < 1: every p.grad *= coef
    Returns total. params may be a generator; parameters whose grad is None are skipped.
    """
    ### BEGIN SOLUTION
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
# with:
    total = torch.sqrt(sum((p.grad ** 2).sum() for p in params if p.grad is not None))

# replace:
        for g in grads:
            g.mul_(coef)
# with:
        for p in params:                                  # BUG: a generator is exhausted by now
            if p.grad is not None:
                p.grad.mul_(coef)
