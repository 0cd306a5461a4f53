# mutant: softmax_dropout passes a fixed p = 0.5 to the kernel instead of the caller's p
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    softmax_dropout_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, p, seed, BLOCK_SIZE=block)
# with:
    softmax_dropout_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, 0.5, seed, BLOCK_SIZE=block)   # BUG
