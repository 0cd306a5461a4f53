# alternative: compares absolute positions with arange instead of tril
# replaces: causal_impl
def causal_mask(n_q, n_k=None):
    """Bool mask of shape (n_q, n_k), True where query i may attend to key j."""
    n_k = n_q if n_k is None else n_k
    return torch.arange(n_k)[None, :] <= torch.arange(n_k - n_q, n_k)[:, None]
