# mutant: mean absolute error instead of the maximum
# replaces: error_impl
# breaks: error_bound
# replace:
        max_error = err.amax()
# with:
        max_error = err.mean()                    # BUG: mean, not max

# replace:
        max_error = err.amax(dim=tuple(d for d in range(x.dim()) if d != channel), keepdim=True)
# with:
        max_error = err.mean(dim=tuple(d for d in range(x.dim()) if d != channel), keepdim=True)  # BUG
