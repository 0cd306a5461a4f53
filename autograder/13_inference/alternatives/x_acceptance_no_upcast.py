# alternative: acceptance_rate as np.minimum(p, q).sum(-1) in the inputs' own dtype (no float64 cast)
# replaces: tokens_impl
# replace:
    return np.minimum(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)).sum(axis=-1)
# with:
    return np.minimum(p, q).sum(axis=-1)
