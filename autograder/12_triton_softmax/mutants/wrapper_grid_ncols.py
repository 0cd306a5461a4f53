# mutant: softmax launches one program per column instead of one per row
# replaces: softmax_impl
# breaks: softmax
# replace:
    softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=block)
# with:
    softmax_kernel[(n_cols,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=block)   # BUG: grid over columns
