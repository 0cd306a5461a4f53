# mutant: lora_B initialised randomly: the policy does not start at the reference, loss[0] != ln 2
# replaces: lora_impl
# breaks: dpo_training
class LoRALinear(nn.Module):
    """y = base(x) + (alpha / r) * x A^T B^T with the base nn.Linear frozen.

    base   : the nn.Linear to adapt (kept as self.base; its parameters get requires_grad=False)
    lora_A : nn.Parameter (r, in_features), small random values
    lora_B : nn.Parameter (out_features, r), zeros, so the layer starts equal to base
    scaling: alpha / r
    """

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        w = base.weight
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features, dtype=w.dtype, device=w.device)
                                   / math.sqrt(base.in_features))
        self.lora_B = nn.Parameter(torch.randn(base.out_features, r, dtype=w.dtype, device=w.device)
                                   / math.sqrt(r))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + self.scaling * ((x @ self.lora_A.T) @ self.lora_B.T)


def make_policy(reference, r, alpha):
    """A deep copy of `reference` with every parameter frozen and every nn.Linear child of each
    block in .blocks (qkv, proj, fc1, fc2) wrapped in LoRALinear(linear, r, alpha).
    The reference itself is left untouched; only the LoRA matrices of the copy are trainable."""
    policy = copy.deepcopy(reference)
    for p in policy.parameters():
        p.requires_grad_(False)
    for block in policy.blocks:
        for name, child in list(block.named_children()):
            if isinstance(child, nn.Linear):
                setattr(block, name, LoRALinear(child, r, alpha))
    return policy
