# mutant: log-softmax Jacobian transposed: delta_ij - s_i instead of delta_ij - s_j
# replaces: softmax_impl
# breaks: softmax_jacobian
# replace:
    return eye - s[..., None, :]
# with:
    return eye - s[..., :, None]                       # BUG: J^T
