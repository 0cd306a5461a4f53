# mutant: the weight is flattened channels-last ((i, j, c) order) while the columns are (c, i, j)
# replaces: conv2d_impl
# breaks: conv2d
# replace:
    out = weight.reshape(C_out, C_in * kh * kw) @ cols             # (N, C_out, L)
# with:
    out = weight.permute(0, 2, 3, 1).reshape(C_out, -1) @ cols     # BUG: (i, j, c) order
