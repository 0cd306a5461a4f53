# mutant: eps added after the square root
# replaces: rmsnorm_impl
# breaks: rmsnorm
class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))     # g in the formula

    def forward(self, x):
        """x / sqrt(mean(x^2 over the last axis) + eps) * weight. Same shape and dtype as x."""
        mean_square = x.pow(2).mean(dim=-1, keepdim=True)
        return x / (torch.sqrt(mean_square) + self.eps) * self.weight     # BUG: eps outside the sqrt
