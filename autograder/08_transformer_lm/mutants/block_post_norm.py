# mutant: post-norm: the residual sum goes through the LayerNorm (LN(x + attn(x)))
# replaces: block_impl
# breaks: decoder_block
class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.d_model % cfg.n_head != 0:
            raise ValueError(f"d_model={cfg.d_model} is not divisible by n_head={cfg.n_head}")
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)     # output: [q | k | v], C features each
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)         # W^O

    def forward(self, x, cache=None):
        """Multi-head causal self-attention. x: (B, T, C) -> (B, T, C).

        cache: None, or a KVCache of this layer (task 4); its update(k, v) returns the keys and
        values of ALL positions so far (cached ones first), and causal_attention handles S > T.
        """
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=-1)
        q, k, v = split_heads(q, self.n_head), split_heads(k, self.n_head), split_heads(v, self.n_head)
        if cache is not None:
            k, v = cache.update(k, v)
        y = causal_attention(q, k, v)
        return self.proj(merge_heads(y))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.act = nn.GELU()                                    # exact (erf) GELU
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x):
        """proj(GELU(fc(x))), applied to every position independently."""
        return self.proj(self.act(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)

    def forward(self, x, cache=None):
        """Pre-norm decoder block:  h = x + attn(ln1(x), cache);  y = h + mlp(ln2(h))."""
        x = self.ln1(x + self.attn(x, cache))          # BUG: post-norm
        return self.ln2(x + self.mlp(x))
