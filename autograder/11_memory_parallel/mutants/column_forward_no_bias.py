# mutant: column_parallel_forward leaves out the bias shards
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
    return [x @ W + b for W, b in zip(W_shards, b_shards)]
# with:
    return [x @ W for W in W_shards]                                   # BUG: no bias
