# mutant: the mask is built from n_k alone and its last n_q rows taken, off by the wrong offset when n_q < n_k
# replaces: causal_impl
# breaks: causal_mask
# replace:
    return torch.ones(n_q, n_k, dtype=torch.bool).tril(diagonal=n_k - n_q)
# with:
    return torch.ones(n_k, n_k, dtype=torch.bool).tril()[:n_q]     # BUG: the FIRST n_q rows, right only if n_q == n_k
