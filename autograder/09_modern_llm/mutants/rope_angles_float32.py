# mutant: RoPE angles in float32 (torch's default dtype) although x is float64: far positions lose ~1e-4
# replaces: rope_impl
# breaks: rope
# replace:
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=x.dtype, device=x.device) * 2 / d_head)
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
# with:
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=torch.float32, device=x.device) * 2 / d_head)
    pos = torch.as_tensor(positions, device=x.device).to(torch.float32)    # BUG: angles not in x's dtype
