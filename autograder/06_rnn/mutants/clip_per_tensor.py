# mutant: clips every tensor by its own norm instead of the global norm (changes the direction)
# replaces: clip_impl
# breaks: bptt
def clip_grad_norm(grads, max_norm):
    """Clip a list of gradient tensors (wrongly: one tensor at a time)."""
    total_norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    clipped = []
    for g in grads:
        norm = float(g.double().norm())
        clipped.append(g * min(1.0, max_norm / norm) if norm > 0 else g.clone())
    return clipped, total_norm
