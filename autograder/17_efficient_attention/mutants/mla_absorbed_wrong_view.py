# mutant: absorbed path reads k_up.weight as (H, d_latent, d_head) per head: the wrong (transposed) W_UK is folded into q
# replaces: absorb_impl
# breaks: mla_absorbed
def absorbed_attention(mla, x, c_kv):
    """MLA attention for the T newest tokens x (B, T, d_model), straight from the latent cache
    c_kv (B, S, d_latent), S >= T (x's own latents are its last T rows).

    Never materialises k or v: absorb W_UK into the queries and apply W_UV after averaging the
    latents. mla has n_heads, d_head, d_latent, callable q_proj and o_proj, and k_up.weight,
    v_up.weight of shape (n_heads * d_head, d_latent) (use them as matrices, do not call them).
    Returns out (B, T, d_model), equal to MultiHeadLatentAttention.forward's output."""
    B, T, _ = x.shape
    S = c_kv.shape[1]
    H, d_head, d_c = mla.n_heads, mla.d_head, mla.d_latent
    q = mla.q_proj(x).view(B, T, H, d_head).transpose(1, 2)             # (B, H, T, d_head)
    W_uk = mla.k_up.weight.view(H, d_c, d_head).transpose(1, 2)         # wrong: not W_UK^(h)
    W_uv = mla.v_up.weight.view(H, d_head, d_c)                         # W_UV^(h): (d_head, d_c)
    q_lat = torch.einsum("bhtd,hdc->bhtc", q, W_uk)                     # q~ = W_UK^T q: (B, H, T, d_c)
    latents = c_kv.unsqueeze(1)                                         # (B, 1, S, d_c), shared by all heads
    scores = q_lat @ latents.transpose(-2, -1) / math.sqrt(d_head)      # (B, H, T, S)
    scores = scores.masked_fill(~causal_mask(T, S, x.device), float("-inf"))
    ctx = torch.softmax(scores, dim=-1) @ latents                       # (B, H, T, d_c)
    y = torch.einsum("bhtc,hdc->bhtd", ctx, W_uv)                       # W_UV ctx: (B, H, T, d_head)
    return mla.o_proj(y.transpose(1, 2).reshape(B, T, H * d_head))
