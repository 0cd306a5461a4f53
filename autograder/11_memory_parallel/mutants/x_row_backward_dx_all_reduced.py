# mutant: row-parallel backward sums the per-device input gradients (an all-reduce that does not belong there)
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
    dx_shards = [dy @ W.T for W in W_shards]
# with:
    dx_shards = [dy @ W.T for W in W_shards]
    if all(d.shape == dx_shards[0].shape for d in dx_shards):
        dx_shards = all_reduce(dx_shards)                           # BUG: each device keeps its own slice's gradient
