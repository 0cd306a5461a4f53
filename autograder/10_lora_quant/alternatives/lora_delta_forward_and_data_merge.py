# alternative: forward through F.linear with the merged-style delta; merge/unmerge via .data, flags via a buffer-free bool; kaiming-free normal init
# replaces: lora_impl
class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base
        self.base.requires_grad_(False)
        self.r, self.alpha = r, alpha
        self.scaling = float(alpha) / r
        factory = {"dtype": base.weight.dtype, "device": base.weight.device}
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, **factory))
        nn.init.normal_(self.lora_A, mean=0.0, std=base.in_features ** -0.5)
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, **factory))
        self.merged = False

    def delta_weight(self):
        return torch.einsum("or,ri->oi", self.lora_B, self.lora_A) * self.scaling

    def forward(self, x):
        if self.merged:
            return self.base(x)
        return torch.nn.functional.linear(x, self.base.weight + self.delta_weight(), self.base.bias)

    def merge(self):
        if self.merged:
            return
        self.base.weight.data.add_(self.delta_weight().detach())
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        self.base.weight.data.sub_(self.delta_weight().detach())
        self.merged = False
