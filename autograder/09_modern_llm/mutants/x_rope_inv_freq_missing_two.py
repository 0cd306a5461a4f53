# mutant: RoPE frequencies base ** (-i / d_head) instead of base ** (-2i / d_head)
# replaces: rope_impl
# breaks: rope
# replace:
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=x.dtype, device=x.device) * 2 / d_head)
# with:
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=x.dtype, device=x.device) / d_head)   # BUG: no 2
