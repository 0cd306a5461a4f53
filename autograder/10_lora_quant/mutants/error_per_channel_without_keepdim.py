# mutant: the per-channel max error drops the reduced axes (not shaped like scale)
# replaces: error_impl
# breaks: error_bound
# replace:
        max_error = err.amax(dim=tuple(d for d in range(x.dim()) if d != channel), keepdim=True)
# with:
        max_error = err.amax(dim=tuple(d for d in range(x.dim()) if d != channel))   # BUG: no keepdim
