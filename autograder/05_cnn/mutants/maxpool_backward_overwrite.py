# mutant: overlapping windows overwrite each other's gradient (scatter_ instead of scatter_add_)
# replaces: maxpool_impl
# breaks: maxpool
# replace:
    grad_x.scatter_add_(2, flat, grad_out.reshape(N, C, h_out * w_out))   # adds duplicates
# with:
    grad_x.scatter_(2, flat, grad_out.reshape(N, C, h_out * w_out))       # duplicates overwrite
