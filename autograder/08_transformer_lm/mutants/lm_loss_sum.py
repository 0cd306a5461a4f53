# mutant: lm_loss sums the cross-entropy over positions instead of averaging it
# replaces: train_impl
# breaks: tiny_gpt
# replace:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
# with:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")   # BUG
