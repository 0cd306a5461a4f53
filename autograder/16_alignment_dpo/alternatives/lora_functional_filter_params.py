# alternative: LoRALinear with F.linear twice and kaiming-uniform A; make_policy over named_children of every block; parameters frozen with requires_grad = False
# replaces: lora_impl
class LoRALinear(nn.Module):
    """y = base(x) + (alpha / r) * x A^T B^T with the base nn.Linear frozen."""

    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.base.weight.requires_grad = False
        if self.base.bias is not None:
            self.base.bias.requires_grad = False
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, dtype=base.weight.dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, dtype=base.weight.dtype))
        self.scaling = alpha / r

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scaling


def make_policy(reference, r, alpha):
    """A deep copy of `reference`, frozen, with every nn.Linear child of each block wrapped in LoRALinear."""
    policy = copy.deepcopy(reference)
    policy.requires_grad_(False)
    for block in policy.blocks:
        names = [name for name, child in block.named_children() if isinstance(child, nn.Linear)]
        for name in names:
            setattr(block, name, LoRALinear(getattr(block, name), r, alpha))
    return policy
