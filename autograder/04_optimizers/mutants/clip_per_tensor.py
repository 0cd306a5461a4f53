# mutant: clipping each gradient by its own norm instead of the global norm
# replaces: clip_impl
# breaks: clip_grad_norm
# replace:
    if not grads:
        return torch.tensor(0.0)
# with:

# replace:
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for g in grads:
# with:
    for g in grads:
        coef = max_norm / (torch.linalg.vector_norm(g) + 1e-6)   # BUG: per tensor
        if coef < 1:
