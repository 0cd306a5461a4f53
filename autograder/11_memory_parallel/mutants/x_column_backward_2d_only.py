# mutant: column-parallel backward sums db over the first axis only: right only for 2-D inputs
# replaces: tp_impl
# breaks: tensor_parallel
# replace:
        db_shards.append(dY2.sum(axis=0))
# with:
        db_shards.append(dY.sum(axis=0))                               # BUG: (T, d_out_i) for a (B, T, d_in) x
