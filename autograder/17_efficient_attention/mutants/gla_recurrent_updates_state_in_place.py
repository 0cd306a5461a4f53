# mutant: gla_recurrent decays and accumulates into the state it was given, in place: the caller's S_0 is overwritten
# replaces: gla_recurrent_impl
# breaks: gla_recurrent
# replace:
        S = decay * S + k[..., t, :, None] * v[..., t, None, :]          # decay first, then add k_t^T v_t
# with:
        S.mul_(decay).add_(k[..., t, :, None] * v[..., t, None, :])
