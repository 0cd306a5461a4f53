# alternative: modulate with torch.addcmul and [:, None], the block's six vectors taken with torch.split
# replaces: adaln_impl
def modulate(x, shift, scale):
    """x * (1 + scale) + shift with x (B, N, D) and shift, scale (B, D): one shift/scale per sample."""
    return torch.addcmul(shift[:, None, :], x, 1.0 + scale[:, None, :])


class AdaLNZeroBlock(nn.Module):
    """A DiT block with adaLN-Zero conditioning; the identity map right after initialisation."""

    def __init__(self, dim, cond_dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        linear = nn.Linear(cond_dim, 6 * dim)
        with torch.no_grad():
            linear.weight.zero_()
            linear.bias.zero_()
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), linear)

    def forward(self, x, c):
        """x: (B, N, D) tokens, c: (B, cond_dim) condition -> (B, N, D)."""
        D = x.shape[-1]
        mods = torch.split(self.adaLN_modulation(c), D, dim=1)
        attn_in = modulate(self.norm1(x), mods[0], mods[1])
        x = x + mods[2][:, None, :] * self.attn(attn_in)
        mlp_in = modulate(self.norm2(x), mods[3], mods[4])
        return x + mods[5][:, None, :] * self.mlp(mlp_in)
