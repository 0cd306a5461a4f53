# mutant: parallel GLA as (Q * exp(Lam)) (K / exp(Lam))^T: right for mild gates, NaN once exp(Lam) underflows
# replaces: gla_parallel_impl
# breaks: gla_parallel
# replace:
    diff = lam.unsqueeze(-2) - lam.unsqueeze(-3)                         # (..., T, T, d_k): [t, s] = Lam_t - Lam_s
    keep = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    decay = diff.masked_fill(~keep.unsqueeze(-1), float("-inf")).exp()  # 0 above the diagonal, <= 1 below
    A = torch.einsum("...ti,...si,...tsi->...ts", q, k, decay)
# with:
    b = lam.exp()
    A = (q * b) @ (k / b).transpose(-2, -1)
    A = A.masked_fill(~torch.ones(T, T, dtype=torch.bool, device=q.device).tril(), 0.0)
