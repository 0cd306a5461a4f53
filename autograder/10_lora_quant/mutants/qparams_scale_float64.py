# mutant: the scale is computed and returned in float64 whatever x's dtype
# replaces: qparams_impl
# breaks: quantize
# replace:
        amax = x.abs().amax(dim=dims, keepdim=keep)
# with:
        amax = x.abs().amax(dim=dims, keepdim=keep).double()      # BUG: scale not in x's dtype
# replace:
        x_min = x.amin(dim=dims, keepdim=keep).clamp_max(0)
# with:
        x_min = x.amin(dim=dims, keepdim=keep).clamp_max(0).double()
