# alternative: absorbed attention one head at a time with plain matmuls and an explicit offset mask
# replaces: absorb_impl
# replace:
    q = mla.q_proj(x).view(B, T, H, d_head).transpose(1, 2)             # (B, H, T, d_head)
    W_uk = mla.k_up.weight.view(H, d_head, d_c)                         # W_UK^(h): (d_head, d_c)
    W_uv = mla.v_up.weight.view(H, d_head, d_c)                         # W_UV^(h): (d_head, d_c)
    q_lat = torch.einsum("bhtd,hdc->bhtc", q, W_uk)                     # q~ = W_UK^T q: (B, H, T, d_c)
    latents = c_kv.unsqueeze(1)                                         # (B, 1, S, d_c), shared by all heads
    scores = q_lat @ latents.transpose(-2, -1) / math.sqrt(d_head)      # (B, H, T, S)
    scores = scores.masked_fill(~causal_mask(T, S, x.device), float("-inf"))
    ctx = torch.softmax(scores, dim=-1) @ latents                       # (B, H, T, d_c)
    y = torch.einsum("bhtc,hdc->bhtd", ctx, W_uv)                       # W_UV ctx: (B, H, T, d_head)
    return mla.o_proj(y.transpose(1, 2).reshape(B, T, H * d_head))
# with:
    q_all = mla.q_proj(x)                                               # (B, T, H * d_head)
    allowed = torch.arange(S)[None, :] <= torch.arange(S - T, S)[:, None]   # query i sits at S - T + i
    heads = []
    for h in range(H):
        rows = slice(h * d_head, (h + 1) * d_head)
        q_h = q_all[..., rows]                                          # (B, T, d_head)
        q_lat = q_h @ mla.k_up.weight[rows]                             # (B, T, d_c)
        s = (q_lat @ c_kv.transpose(1, 2)) * d_head ** -0.5             # (B, T, S)
        s = torch.where(allowed, s, torch.full_like(s, float("-inf")))
        ctx = torch.softmax(s, dim=-1) @ c_kv                           # (B, T, d_c)
        heads.append(ctx @ mla.v_up.weight[rows].T)                     # (B, T, d_head)
    return mla.o_proj(torch.cat(heads, dim=-1))
