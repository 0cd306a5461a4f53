# mutant: parallel linear attention without the causal mask (every token sees the future); recurrent form right
# replaces: linear_impl
# breaks: linear_attention
def linear_attention_parallel(q, k, v):
    """Causal linear attention, parallel form: (phi(Q) phi(K)^T masked lower-triangular) V, each
    row divided by its sum. q, k (..., T, d_k), v (..., T, d_v) -> (..., T, d_v); phi = elu_feature_map."""
    fq, fk = elu_feature_map(q), elu_feature_map(k)
    T = q.shape[-2]
    A = fq @ fk.transpose(-2, -1)                                        # (..., T, T)
    keep = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    return (A @ v) / A.sum(dim=-1, keepdim=True)


def linear_attention_recurrent(q, k, v):
    """Causal linear attention, recurrent form: S_t = S_{t-1} + phi(k_t)^T v_t, z_t = z_{t-1} + phi(k_t),
    o_t = phi(q_t) S_t / (phi(q_t) . z_t), one token at a time. Same shapes and result as the parallel form."""
    fq, fk = elu_feature_map(q), elu_feature_map(k)
    *lead, T, d_k = q.shape
    S = q.new_zeros(*lead, d_k, v.shape[-1])
    z = q.new_zeros(*lead, d_k)
    outs = []
    for t in range(T):
        S = S + fk[..., t, :, None] * v[..., t, None, :]
        z = z + fk[..., t, :]
        num = (fq[..., t, :, None] * S).sum(dim=-2)                    # phi(q_t) S_t: (..., d_v)
        den = (fq[..., t, :] * z).sum(dim=-1, keepdim=True)             # phi(q_t) . z_t: (..., 1)
        outs.append(num / den)
    return torch.stack(outs, dim=-2)
