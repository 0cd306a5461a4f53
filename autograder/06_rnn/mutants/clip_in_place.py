# mutant: clip_grad_norm scales the given tensors in place (mul_) and returns them: the caller's gradients change
# replaces: clip_impl
# breaks: bptt
# replace:
    return [g * scale for g in grads], total_norm
# with:
    for g in grads:
        g.mul_(scale)                                           # BUG: modifies the inputs
    return list(grads), total_norm
