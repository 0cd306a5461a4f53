# alternative: HF Llama's RMSNorm (upcast to float32 inside, cast back to x's dtype) and repeat_kv by expand + reshape
# replaces: rmsnorm_impl
# replace:
        mean_square = x.pow(2).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(mean_square + self.eps) * self.weight
# with:
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)
