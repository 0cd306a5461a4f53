# mutant: softmax writes the result into x and returns it (the caller's input is overwritten)
# replaces: softmax_impl
# breaks: softmax
# replace:
    y = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
# with:
    y = x                                                                 # BUG: in place
