# mutant: acceptance rate as the plain mean of min(1, p/q) over the vocabulary instead of the q-weighted expectation
# replaces: tokens_impl
# breaks: expected_tokens
# replace:
    return np.minimum(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)).sum(axis=-1)
# with:
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return np.minimum(1.0, p / q).mean(axis=-1)
