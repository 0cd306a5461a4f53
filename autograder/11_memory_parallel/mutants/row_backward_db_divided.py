# mutant: row_parallel_backward divides the bias gradient by the number of devices
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
    db = dy2.sum(axis=0)
# with:
    db = dy2.sum(axis=0) / len(W_shards)                               # BUG: the bias is added once, not per device
