# mutant: repeat_kv tiles the kv heads (h % H_kv) instead of repeating each (h // n_rep)
# replaces: gqa_impl
# breaks: gqa
def repeat_kv(x, n_rep):
    """(B, H_kv, S, d) -> (B, H_kv * n_rep, S, d); output head h is kv head h // n_rep."""
    if n_rep == 1:
        return x
    return x.repeat(1, n_rep, 1, 1)          # BUG: [k0, k1, k0, k1, ...]


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_model, n_heads, n_kv_heads, rope_base=10000.0):
        super().__init__()
        if d_model % n_heads != 0 or n_heads % n_kv_heads != 0:
            raise ValueError(f"need n_heads | d_model and n_kv_heads | n_heads, got {d_model}, {n_heads}, {n_kv_heads}")
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.d_head = d_model // n_heads
        self.rope_base = rope_base
        self.q_proj = nn.Linear(d_model, n_heads * self.d_head, bias=False)
        self.k_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=False)
        self.v_proj = nn.Linear(d_model, n_kv_heads * self.d_head, bias=False)
        self.o_proj = nn.Linear(n_heads * self.d_head, d_model, bias=False)

    def forward(self, x, positions, past_kv=None):
        """x (B, T, d_model) at the given positions ((T,) or (B, T)); past_kv None or (k, v) of
        shape (B, H_kv, P, d_head) from an earlier call (keys already rotated).

        Returns (out, (k_all, v_all)): out (B, T, d_model); k_all, v_all (B, H_kv, P + T, d_head),
        the cached ones first. Use apply_rope, repeat_kv and causal_attention."""
        B, T, _ = x.shape
        q = self.q_proj(x).reshape(B, T, self.n_heads, self.d_head).transpose(1, 2)
        k = self.k_proj(x).reshape(B, T, self.n_kv_heads, self.d_head).transpose(1, 2)
        v = self.v_proj(x).reshape(B, T, self.n_kv_heads, self.d_head).transpose(1, 2)
        q = apply_rope(q, positions, self.rope_base)
        k = apply_rope(k, positions, self.rope_base)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
        n_rep = self.n_heads // self.n_kv_heads
        y = causal_attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep))
        y = y.transpose(1, 2).reshape(B, T, self.n_heads * self.d_head)
        return self.o_proj(y), (k, v)


def kv_cache_bytes(n_layers, n_kv_heads, d_head, batch, seq_len, bytes_per_elem=2):
    """M_KV = 2 * L * H_kv * d_head * B * S * bytes, as a Python int."""
    return int(2 * n_layers * n_kv_heads * d_head * batch * seq_len * bytes_per_elem)
