# mutant: asymmetric range [min x, max x] without including 0 (zero is not exactly representable)
# replaces: qparams_impl
# breaks: quantize
# replace:
        x_min = x.amin(dim=dims, keepdim=keep).clamp_max(0)
        x_max = x.amax(dim=dims, keepdim=keep).clamp_min(0)
# with:
        x_min = x.amin(dim=dims, keepdim=keep)                    # BUG: range need not contain 0
        x_max = x.amax(dim=dims, keepdim=keep)
