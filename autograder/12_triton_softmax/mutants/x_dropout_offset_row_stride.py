# mutant: dropout draws tl.rand at row * input_row_stride + col instead of row * n_cols + col
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    r = tl.rand(seed, row * n_cols + offs)
# with:
    r = tl.rand(seed, row * input_row_stride + offs)                 # BUG: memory offset, not the element index
