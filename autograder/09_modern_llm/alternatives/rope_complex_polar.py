# alternative: RoPE as a complex rotation (torch.polar) of the half-split pairs, angles in x's dtype
# replaces: rope_impl
def rotate_half(x):
    """[x1 | x2] -> [-x2 | x1] along the last axis (x1 = first half, x2 = second half)."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, positions, base=10000.0):
    """Rotary position embedding, half-split convention, at the GIVEN positions."""
    d_head = x.shape[-1]
    if d_head % 2 != 0:
        raise ValueError(f"RoPE needs an even head size, got d_head={d_head}")
    half = d_head // 2
    theta = 1.0 / base ** (torch.arange(half, dtype=x.dtype) / half)
    m = torch.as_tensor(positions).to(x.dtype)
    angles = torch.einsum("...t,f->...tf", m, theta)
    if angles.dim() == 3:
        angles = angles[:, None]
    z = torch.complex(x[..., :half], x[..., half:]) * torch.polar(torch.ones_like(angles), angles)
    return torch.cat((z.real, z.imag), dim=-1)
