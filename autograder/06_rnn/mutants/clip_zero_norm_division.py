# mutant: no guard for an all-zero gradient: max_norm / 0
# replaces: clip_impl
# breaks: bptt
# replace:
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
# with:
    scale = min(1.0, max_norm / total_norm)
