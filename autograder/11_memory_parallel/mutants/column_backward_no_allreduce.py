# mutant: column-parallel backward returns each device's partial dL/dx without the all-reduce
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
    return all_reduce(partial_dx), dW_shards, db_shards
# with:
    return partial_dx, dW_shards, db_shards
