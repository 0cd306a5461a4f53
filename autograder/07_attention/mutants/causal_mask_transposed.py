# mutant: upper triangle (triu) instead of lower: every query sees the future, not the past
# replaces: causal_impl
# breaks: causal_mask
# replace:
    return torch.ones(n_q, n_k, dtype=torch.bool).tril(diagonal=n_k - n_q)
# with:
    return torch.ones(n_q, n_k, dtype=torch.bool).triu(diagonal=n_k - n_q)   # BUG: transposed
