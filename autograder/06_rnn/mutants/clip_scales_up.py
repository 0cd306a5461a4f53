# mutant: clip_grad_norm scales by max_norm / total_norm without the min(1, .): gradients below the limit grow (red team: plausible-bugs-06 clipalways)
# replaces: clip_impl
# breaks: bptt
# replace:
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
# with:
    scale = max_norm / total_norm if total_norm > 0 else 1.0
