# alternative: MLA forward with the heads split by reshape/permute and attention through the given causal_attention; the cache grown with torch.cat on a list
# replaces: mla_impl
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
        B, T, _ = x.shape
        H, d_head = self.n_heads, self.d_head
        pieces = ([] if past_latent is None else [past_latent]) + [self.kv_down(x)]
        c_kv = torch.cat(pieces, dim=1)
        S = c_kv.shape[1]

        def heads(t, n):
            return t.reshape(B, n, H, d_head).permute(0, 2, 1, 3)

        q = heads(torch.einsum("btc,oc->bto", x, self.q_proj.weight), T)
        k = heads(torch.einsum("bsl,ol->bso", c_kv, self.k_up.weight), S)
        v = heads(torch.einsum("bsl,ol->bso", c_kv, self.v_up.weight), S)
        y = causal_attention(q, k, v).permute(0, 2, 1, 3).reshape(B, T, H * d_head)
        return self.o_proj(y), c_kv
