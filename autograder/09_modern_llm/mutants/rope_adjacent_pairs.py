# mutant: RoPE pairs adjacent coordinates (2i, 2i+1) instead of the stated half-split (i, i+d/2)
# replaces: rope_impl
# breaks: rope
# replace:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)
# with:
    x1, x2 = x[..., 0::2], x[..., 1::2]                       # BUG: interleaved pairs (GPT-J / Meta)
    return torch.stack([-x2, x1], dim=-1).flatten(-2)

# replace:
    angles = torch.cat([angles, angles], dim=-1)               # (T, d) or (B, T, d): Theta repeated
# with:
    angles = angles.repeat_interleave(2, dim=-1)               # [t0, t0, t1, t1, ...] for adjacent pairs
