# alternative: repeat_kv with expand + reshape (a view then one copy) instead of repeat_interleave
# replaces: gqa_impl
# replace:
    if n_rep == 1:
        return x
    return x.repeat_interleave(n_rep, dim=1)
# with:
    B, H, S, d = x.shape
    return x[:, :, None, :, :].expand(B, H, n_rep, S, d).reshape(B, H * n_rep, S, d)
