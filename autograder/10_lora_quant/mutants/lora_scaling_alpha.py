# mutant: scaling = alpha instead of alpha / r
# replaces: lora_impl
# breaks: lora
class LoRALinear(nn.Module):
    """y = base(x) + (alpha / r) * x A^T B^T with the base nn.Linear frozen.

    base   : the nn.Linear to adapt (kept as self.base; its parameters get requires_grad=False)
    lora_A : nn.Parameter (r, in_features), N(0, 1/in_features) values, in base.weight's dtype
    lora_B : nn.Parameter (out_features, r), zeros, so the layer starts equal to base
    scaling: alpha / r
    merged : True after merge(): the update lives inside base.weight and forward is base(x)
    """

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        w = base.weight
        self.r = r
        self.alpha = alpha
        self.scaling = alpha                      # BUG: not divided by r
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features, dtype=w.dtype, device=w.device)
                                   / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
        self.merged = False

    def delta_weight(self):
        """(alpha / r) * B @ A: the (out_features, in_features) update that merge() adds to base.weight."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x):
        out = self.base(x)
        if not self.merged:
            out = out + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)
        return out

    def merge(self):
        """base.weight += delta_weight() in place (no autograd); a second merge() does nothing."""
        if not self.merged:
            with torch.no_grad():
                self.base.weight += self.delta_weight()
            self.merged = True

    def unmerge(self):
        """base.weight -= delta_weight() in place (no autograd); does nothing when not merged."""
        if self.merged:
            with torch.no_grad():
                self.base.weight -= self.delta_weight()
            self.merged = False
