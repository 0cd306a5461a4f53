# mutant: GLA recurrent form decays the columns of S (d_v axis) instead of its rows (d_k axis)
# replaces: gla_recurrent_impl
# breaks: gla_recurrent
# replace:
        decay = log_alpha[..., t, :].exp().unsqueeze(-1)                # (..., d_k, 1): scales row i of S
# with:
        decay = log_alpha[..., t, :].exp().unsqueeze(-2)                # BUG: (..., 1, d_k)
