# alternative: squared norms summed in a loop, coefficient clamped to 1 and always applied
# replaces: clip_impl
def clip_grad_norm_(params, max_norm):
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    sq = grads[0].new_zeros(())
    for g in grads:
        sq = sq + (g ** 2).sum()
    total = sq.sqrt()
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef.to(g.dtype))
    return total
