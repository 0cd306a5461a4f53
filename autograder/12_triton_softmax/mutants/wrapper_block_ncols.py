# mutant: softmax passes BLOCK_SIZE = n_cols (tl.arange needs a power of 2)
# replaces: softmax_impl
# breaks: softmax
# replace:
    block = triton.next_power_of_2(n_cols)
# with:
    block = n_cols                                                        # BUG: not a power of 2
