# mutant: on ties the LAST maximum of a window (row-major) gets the gradient instead of the first
# replaces: maxpool_impl
# breaks: maxpool
# loses: 0.5 forward values are right; only the backward check (half the part) sees the tie rule
# replace:
    out, arg = windows.max(dim=2)              # arg: first maximum of each window, in (i, j) order
# with:
    out, arg = windows.flip(2).max(dim=2)
    arg = kh * kw - 1 - arg                    # BUG: the last maximum wins
