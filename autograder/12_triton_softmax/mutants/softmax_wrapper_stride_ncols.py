# mutant: the wrapper passes n_cols as the input row stride
# replaces: softmax_impl
# breaks: softmax
# replace:
    softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=block)
# with:
    softmax_kernel[(n_rows,)](y, x, n_cols, y.stride(0), n_cols, BLOCK_SIZE=block)
