# mutant: GLA recurrence decays after adding the new token: S_t = alpha_t * (S_{t-1} + k_t^T v_t)
# replaces: gla_recurrent_impl
# breaks: gla_recurrent
# replace:
        S = decay * S + k[..., t, :, None] * v[..., t, None, :]          # decay first, then add k_t^T v_t
# with:
        S = decay * (S + k[..., t, :, None] * v[..., t, None, :])        # wrong: decays the new token too
