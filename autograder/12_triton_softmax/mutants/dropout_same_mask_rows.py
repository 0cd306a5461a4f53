# mutant: random offsets use the column only: every row gets the same mask
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    r = tl.rand(seed, row * n_cols + offs)
# with:
    r = tl.rand(seed, offs)
