# mutant: parallel GLA decays token s by prod_{r=s..t} alpha_r (alpha_s included: off by one step)
# replaces: gla_parallel_impl
# breaks: gla_parallel
# replace:
    diff = lam.unsqueeze(-2) - lam.unsqueeze(-3)                         # (..., T, T, d_k): [t, s] = Lam_t - Lam_s
# with:
    diff = lam.unsqueeze(-2) - (lam - log_alpha).unsqueeze(-3)           # wrong: Lam_t - Lam_{s-1}
