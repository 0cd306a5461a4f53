# mutant: row-parallel forward adds the bias to every partial sum before the all-reduce (bias counted N times)
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
    partial = [x @ W for x, W in zip(x_shards, W_shards)]
    return [y + b for y in all_reduce(partial)]
# with:
    partial = [x @ W + b for x, W in zip(x_shards, W_shards)]
    return all_reduce(partial)
