# mutant: per_step_norms takes the norm over time and hidden (one value per batch row) instead of per step
# replaces: bptt_impl
# breaks: bptt
# replace:
    return deltas.reshape(deltas.shape[0], -1).norm(dim=1)
# with:
    return deltas.norm(dim=(0, 2))                              # BUG: per batch row, not per step
