# mutant: causal mask aligned top-left (j <= i) for n_q < n_k: ignores the n_k - n_q offset of cached keys
# replaces: causal_impl
# breaks: causal_mask
def causal_mask(n_q, n_k=None):
    """Bool mask of shape (n_q, n_k), True where query i may attend to key j."""
    n_k = n_q if n_k is None else n_k
    return torch.ones(n_q, n_k, dtype=torch.bool).tril()               # BUG: no diagonal offset
