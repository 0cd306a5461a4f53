# mutant: eps added after the square root
# replaces: rmsnorm_impl
# breaks: rmsnorm
# replace:
        return x * torch.rsqrt(mean_square + self.eps) * self.weight
# with:
        return x / (torch.sqrt(mean_square) + self.eps) * self.weight     # BUG: eps outside the sqrt
