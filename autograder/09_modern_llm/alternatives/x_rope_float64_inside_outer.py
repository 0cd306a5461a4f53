# alternative: RoPE angles with torch.outer in float64 inside, cast back to x's dtype; cos/sin via stack of halves
# replaces: rope_impl
# replace:
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=x.dtype, device=x.device) * 2 / d_head)
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
    angles = pos.unsqueeze(-1) * inv_freq                      # (T, d/2) or (B, T, d/2)
    angles = torch.cat([angles, angles], dim=-1)               # (T, d) or (B, T, d): Theta repeated
    if angles.dim() == 3:
        angles = angles.unsqueeze(1)                           # (B, 1, T, d): the same for every head
    return x * angles.cos() + rotate_half(x) * angles.sin()
# with:
    half = d_head // 2
    inv_freq = 1.0 / (base ** (torch.arange(0, d_head, 2, dtype=torch.float64) / d_head))
    pos = torch.as_tensor(positions).to(torch.float64)
    if pos.dim() == 1:
        ang = torch.outer(pos, inv_freq)[None, None]           # (1, 1, T, d/2)
    else:
        ang = torch.einsum("bt,f->btf", pos, inv_freq)[:, None]  # (B, 1, T, d/2)
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
