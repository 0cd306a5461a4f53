# alternative: attention written inline with an explicit boolean mask and F.softmax, q/k/v by chunk, GELU by F.gelu
# replaces: block_impl
class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.d_model % cfg.n_head != 0:
            raise ValueError(f"d_model={cfg.d_model} is not divisible by n_head={cfg.n_head}")
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x, cache=None):
        B, T, C = x.shape
        H = self.n_head
        q, k, v = (t.reshape(B, T, H, C // H).permute(0, 2, 1, 3) for t in self.qkv(x).chunk(3, dim=-1))
        if cache is not None:
            k, v = cache.update(k, v)
        S = k.shape[2]
        allowed = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
        scores = torch.einsum("bhtd,bhsd->bhts", q, k) / math.sqrt(C // H)
        y = F.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v
        return self.proj(y.permute(0, 2, 1, 3).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.act = nn.GELU()
        self.proj = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)

    def forward(self, x, cache=None):
        h = x + self.attn(self.ln1(x), cache)
        return h + self.mlp(self.ln2(h))
