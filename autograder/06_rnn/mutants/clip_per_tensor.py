# mutant: clips every tensor by its own norm instead of the global norm (changes the direction)
# replaces: clip_impl
# breaks: bptt
# replace:
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    return [g * scale for g in grads], total_norm
# with:
    clipped = []
    for g in grads:
        norm = float(g.double().norm())
        clipped.append(g * min(1.0, max_norm / norm) if norm > 0 else g.clone())
    return clipped, total_norm
