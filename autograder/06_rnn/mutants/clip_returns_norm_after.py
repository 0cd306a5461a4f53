# mutant: clip_grad_norm returns the norm AFTER clipping instead of the norm it measured before (red team: plausible-bugs-06 clipafter)
# replaces: clip_impl
# breaks: bptt
# replace:
    return [g * scale for g in grads], total_norm
# with:
    clipped = [g * scale for g in grads]
    return clipped, math.sqrt(sum(float((g.double() ** 2).sum()) for g in clipped))
