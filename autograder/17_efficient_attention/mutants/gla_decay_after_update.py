# mutant: GLA recurrence decays after adding the new token: S_t = alpha_t * (S_{t-1} + k_t^T v_t)
# replaces: gla_recurrent_impl
# breaks: gla_recurrent
def gla_recurrent(q, k, v, log_alpha, state=None):
    """Gated linear attention, recurrent form: S_t = Diag(alpha_t) S_{t-1} + k_t^T v_t, o_t = q_t S_t.

    q, k, log_alpha (..., T, d_k) with log_alpha = log(alpha) <= 0; v (..., T, d_v);
    state (..., d_k, d_v) is S_0 (zeros when None) and is not modified.
    Returns (o (..., T, d_v), S_T (..., d_k, d_v))."""
    *lead, T, d_k = q.shape
    S = q.new_zeros(*lead, d_k, v.shape[-1]) if state is None else state
    outs = []
    for t in range(T):
        decay = log_alpha[..., t, :].exp().unsqueeze(-1)                # (..., d_k, 1): scales row i of S
        S = decay * (S + k[..., t, :, None] * v[..., t, None, :])        # wrong: decays the new token too
        outs.append((q[..., t, :, None] * S).sum(dim=-2))               # q_t S_t: (..., d_v)
    return torch.stack(outs, dim=-2), S
