# mutant: clip_grad_norm returns the total norm as a 0-d tensor, not the Python float the prose asks for
# replaces: clip_impl
# breaks: bptt
# replace:
    total_norm = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    return [g * scale for g in grads], total_norm
# with:
    total_norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads))       # BUG: a tensor
    scale = min(1.0, max_norm / float(total_norm)) if total_norm > 0 else 1.0
    return [g * scale for g in grads], total_norm
