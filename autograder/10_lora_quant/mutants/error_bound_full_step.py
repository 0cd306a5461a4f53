# mutant: bound = scale (a whole step) instead of scale / 2
# replaces: error_impl
# breaks: error_bound
# replace:
    return max_error, scale / 2
# with:
    return max_error, scale                     # BUG: the bound is half a step
