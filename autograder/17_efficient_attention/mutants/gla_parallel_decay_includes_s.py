# mutant: parallel GLA decays token s by prod_{r=s..t} alpha_r (alpha_s included: off by one step)
# replaces: gla_parallel_impl
# breaks: gla_parallel
def gla_parallel(q, k, v, log_alpha):
    """Gated linear attention, parallel form O = A V with
    A[t, s] = sum_i q[t, i] k[s, i] exp(Lam[t, i] - Lam[s, i]) for s <= t (0 above the diagonal),
    Lam = cumsum of log_alpha over time. Stable for very negative log_alpha (mask before exp).
    q, k, log_alpha (..., T, d_k), v (..., T, d_v) -> (..., T, d_v), equal to gla_recurrent's o."""
    T = q.shape[-2]
    lam = log_alpha.cumsum(dim=-2)                                       # (..., T, d_k)
    diff = lam.unsqueeze(-2) - (lam - log_alpha).unsqueeze(-3)           # wrong: Lam_t - Lam_{s-1}
    keep = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    decay = diff.masked_fill(~keep.unsqueeze(-1), float("-inf")).exp()  # 0 above the diagonal, <= 1 below
    A = torch.einsum("...ti,...si,...tsi->...ts", q, k, decay)
    return A @ v
