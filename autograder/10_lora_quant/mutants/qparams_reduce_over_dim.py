# mutant: per-channel range reduced over `dim` instead of over all other axes
# replaces: qparams_impl
# breaks: quantize
# replace:
        dims, keep = tuple(d for d in range(x.dim()) if d != channel), True
# with:
        dims, keep = (channel,), True             # BUG: reduces along the channel axis
