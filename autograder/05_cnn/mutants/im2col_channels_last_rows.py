# mutant: rows ordered (i, j, c) (channels innermost) instead of (c, i, j): no longer matches weight.reshape
# replaces: im2col_impl
# breaks: conv2d
# replace:
    cols = windows.permute(0, 1, 4, 5, 2, 3)                          # (N, C, kh, kw, H_out, W_out)
# with:
    cols = windows.permute(0, 4, 5, 1, 2, 3)                          # (N, kh, kw, C, H_out, W_out)
