# mutant: causal mask aligned top-left (j <= i) for n_q < n_k: ignores the n_k - n_q offset of cached keys
# replaces: causal_impl
# breaks: causal_mask
# replace:
    return torch.ones(n_q, n_k, dtype=torch.bool).tril(diagonal=n_k - n_q)
# with:
    return torch.ones(n_q, n_k, dtype=torch.bool).tril()               # BUG: no diagonal offset
