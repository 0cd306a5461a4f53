# mutant: cross_entropy sums the per-sample losses (and gradients) instead of averaging them
# replaces: ce_impl
# breaks: cross_entropy
# replace:
    loss = float(np.mean(lse - logits[rows, targets]))
# with:
    loss = float(np.sum(lse - logits[rows, targets]))

# replace:
    return loss, grad / n
# with:
    return loss, grad
