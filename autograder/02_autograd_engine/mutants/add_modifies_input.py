# mutant: add sums into its first input's own array (a.data += b.data): the forward value is right, a changed
# replaces: add_mul_impl
# breaks: ops_add_mul
# replace:
    out = make_result(a.data + b.data, (a, b), "+")
# with:
    total = a.data
    total += b.data                                  # BUG: writes into a.data
    out = make_result(total, (a, b), "+")
