# mutant: parallel GLA as (Q * exp(Lam)) (K / exp(Lam))^T: right for mild gates, NaN once exp(Lam) underflows
# replaces: gla_parallel_impl
# breaks: gla_parallel
def gla_parallel(q, k, v, log_alpha):
    """Gated linear attention, parallel form O = A V with
    A[t, s] = sum_i q[t, i] k[s, i] exp(Lam[t, i] - Lam[s, i]) for s <= t (0 above the diagonal),
    Lam = cumsum of log_alpha over time. Stable for very negative log_alpha (mask before exp).
    q, k, log_alpha (..., T, d_k), v (..., T, d_v) -> (..., T, d_v), equal to gla_recurrent's o."""
    T = q.shape[-2]
    lam = log_alpha.cumsum(dim=-2)                                       # (..., T, d_k)
    b = lam.exp()
    A = (q * b) @ (k / b).transpose(-2, -1)
    A = A.masked_fill(~torch.ones(T, T, dtype=torch.bool, device=q.device).tril(), 0.0)
    return A @ v
