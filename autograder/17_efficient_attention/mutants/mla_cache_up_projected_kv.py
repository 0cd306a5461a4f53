# mutant: the cache stores the up-projected K and V (B, S, 2*H*d_head) instead of the latents c_kv (outputs still right)
# replaces: mla_impl
# breaks: mla_forward
class MultiHeadLatentAttention(nn.Module):
    def __init__(self, d_model, n_heads, d_head, d_latent):
        super().__init__()
        self.n_heads, self.d_head, self.d_latent = n_heads, d_head, d_latent
        self.q_proj = nn.Linear(d_model, n_heads * d_head, bias=False)     # W_Q
        self.kv_down = nn.Linear(d_model, d_latent, bias=False)            # W_DKV: h_t -> c_t
        self.k_up = nn.Linear(d_latent, n_heads * d_head, bias=False)      # W_UK: c_t -> k_t (all heads)
        self.v_up = nn.Linear(d_latent, n_heads * d_head, bias=False)      # W_UV: c_t -> v_t (all heads)
        self.o_proj = nn.Linear(n_heads * d_head, d_model, bias=False)     # W_O

    def forward(self, x, past_latent=None):
        """x (B, T, d_model) are the T newest tokens; past_latent None or (B, P, d_latent), the
        latents an earlier call returned.

        Returns (out, c_kv): out (B, T, d_model); c_kv (B, P + T, d_latent), the cached latents
        first, then kv_down(x). Up-project ALL latents to k, v (B, H, P + T, d_head), use
        causal_attention, merge the heads and apply o_proj. Only latents go into the cache."""
        B, T, _ = x.shape
        H, d_head = self.n_heads, self.d_head
        c_new = self.kv_down(x)
        kv = torch.cat([self.k_up(c_new), self.v_up(c_new)], dim=-1)     # cache K and V, not the latent
        if past_latent is not None:
            kv = torch.cat([past_latent, kv], dim=1)
        S = kv.shape[1]
        q = self.q_proj(x).view(B, T, H, d_head).transpose(1, 2)
        k = kv[..., :H * d_head].reshape(B, S, H, d_head).transpose(1, 2)
        v = kv[..., H * d_head:].reshape(B, S, H, d_head).transpose(1, 2)
        c_kv = kv
        y = causal_attention(q, k, v)                                    # (B, H, T, d_head)
        out = self.o_proj(y.transpose(1, 2).reshape(B, T, H * d_head))
        return out, c_kv
