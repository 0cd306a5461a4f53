# mutant: RMSNorm computes in float32 (HF-style upcast) and forgets to cast back to x's dtype
# replaces: rmsnorm_impl
# breaks: rmsnorm
# replace:
        mean_square = x.pow(2).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(mean_square + self.eps) * self.weight
# with:
        h = x.float()
        mean_square = h.pow(2).mean(dim=-1, keepdim=True)
        return (h * torch.rsqrt(mean_square + self.eps)).float() * self.weight.float()   # BUG: float32 out
