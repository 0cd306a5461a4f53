# alternative: GLA recurrent form with einsum for the outer product and the read-out, outputs written into a preallocated tensor
# replaces: gla_recurrent_impl
# replace:
    *lead, T, d_k = q.shape
    S = q.new_zeros(*lead, d_k, v.shape[-1]) if state is None else state
    outs = []
    for t in range(T):
        decay = log_alpha[..., t, :].exp().unsqueeze(-1)                # (..., d_k, 1): scales row i of S
        S = decay * S + k[..., t, :, None] * v[..., t, None, :]          # decay first, then add k_t^T v_t
        outs.append((q[..., t, :, None] * S).sum(dim=-2))               # q_t S_t: (..., d_v)
    return torch.stack(outs, dim=-2), S
# with:
    T, d_k, d_v = q.shape[-2], q.shape[-1], v.shape[-1]
    S = torch.zeros(q.shape[:-2] + (d_k, d_v), dtype=q.dtype) if state is None else state.clone()
    alpha = torch.exp(log_alpha)
    o = torch.empty(v.shape, dtype=q.dtype)
    for t in range(T):
        S = torch.einsum("...i,...ij->...ij", alpha[..., t, :], S) + torch.einsum("...i,...j->...ij", k[..., t, :], v[..., t, :])
        o[..., t, :] = torch.einsum("...i,...ij->...j", q[..., t, :], S)
    return o, S
