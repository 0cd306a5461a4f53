# mutant: acceptance_rate sums min(p, q) over the first axis instead of the vocabulary (last) axis: right for one row, wrong for a batch
# replaces: tokens_impl
# breaks: expected_tokens
# replace:
    return np.minimum(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)).sum(axis=-1)
# with:
    return np.minimum(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)).sum(axis=0)
