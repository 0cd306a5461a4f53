# mutant: zero-initialises the modulation weight but not its bias: gate = bias != 0 at init
# replaces: adaln_impl
# breaks: adaln_zero
def modulate(x, shift, scale):
    """x * (1 + scale) + shift with x (B, N, D) and shift, scale (B, D): one shift/scale per sample."""
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class AdaLNZeroBlock(nn.Module):
    """A DiT block with adaLN-Zero conditioning; the identity map right after initialisation."""

    def __init__(self, dim, cond_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim))
        nn.init.zeros_(self.adaLN_modulation[1].weight)

    def forward(self, x, c):
        """x: (B, N, D) tokens, c: (B, cond_dim) condition -> (B, N, D)."""
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=-1)
        x = x + gate_msa.unsqueeze(1) * self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x
