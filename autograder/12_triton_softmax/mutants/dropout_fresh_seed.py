# mutant: the wrapper draws a fresh seed on every call, ignoring the caller's seed
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    n_rows, n_cols = x.shape
# with:
    n_rows, n_cols = x.shape
    seed = int(torch.randint(0, 2**31 - 1, (1,)))
