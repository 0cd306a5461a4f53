# alternative: absorbed path with per-head matrices from reshape, batched matmuls instead of einsum, and a causal mask built from index arithmetic
# replaces: absorb_impl
def absorbed_attention(mla, x, c_kv):
    """MLA attention for the T newest tokens x (B, T, d_model), straight from the latent cache c_kv (B, S, d_latent)."""
    B, T, _ = x.shape
    S = c_kv.shape[1]
    H, d_head, d_c = mla.n_heads, mla.d_head, mla.d_latent
    q = mla.q_proj(x).reshape(B, T, H, d_head).transpose(1, 2)          # (B, H, T, d_head)
    W_uk = mla.k_up.weight.reshape(H, d_head, d_c)
    W_uv = mla.v_up.weight.reshape(H, d_head, d_c)
    q_lat = torch.matmul(q, W_uk.unsqueeze(0))                          # (B, H, T, d_c)
    scores = torch.matmul(q_lat, c_kv.transpose(1, 2).unsqueeze(1)) * (d_head ** -0.5)
    allowed = torch.arange(S, device=x.device)[None, :] <= (S - T + torch.arange(T, device=x.device))[:, None]
    scores = torch.where(allowed, scores, torch.full_like(scores, float("-inf")))
    ctx = torch.matmul(torch.softmax(scores, dim=-1), c_kv.unsqueeze(1))   # (B, H, T, d_c)
    y = torch.matmul(ctx, W_uv.transpose(1, 2).unsqueeze(0))            # (B, H, T, d_head)
    return mla.o_proj(y.transpose(1, 2).reshape(B, T, H * d_head))
