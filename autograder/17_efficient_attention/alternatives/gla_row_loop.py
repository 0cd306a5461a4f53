# alternative: gla_parallel one output row at a time, slicing s <= t BEFORE exp (nothing to mask), and gla_recurrent with einsum
# replaces: gla_parallel_impl
def gla_parallel(q, k, v, log_alpha):
    """Gated linear attention, parallel form O = A V, built row by row."""
    T = q.shape[-2]
    lam = torch.cumsum(log_alpha, dim=-2)
    rows = []
    for t in range(T):
        decay = torch.exp(lam[..., t:t + 1, :] - lam[..., :t + 1, :])      # (..., t+1, d_k), exponents <= 0
        a = torch.einsum("...i,...si->...s", q[..., t, :], k[..., :t + 1, :] * decay)
        rows.append(torch.einsum("...s,...sv->...v", a, v[..., :t + 1, :]))
    return torch.stack(rows, dim=-2)
