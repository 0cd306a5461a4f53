# mutant: GLA parallel form with an exclusive cumsum (Lam_t without log_alpha_t)
# replaces: gla_parallel_impl
# breaks: gla_parallel
# replace:
    lam = log_alpha.cumsum(dim=-2)                                       # (..., T, d_k)
# with:
    lam = log_alpha.cumsum(dim=-2) - log_alpha                           # BUG: exclusive
