# mutant: RoPE pairs adjacent coordinates (2i, 2i+1) instead of the stated half-split (i, i+d/2)
# replaces: rope_impl
# breaks: rope
def rotate_half(x):
    """[x1 | x2] -> [-x2 | x1] along the last axis (x1 = first half, x2 = second half)."""
    x1, x2 = x[..., 0::2], x[..., 1::2]                       # BUG: interleaved pairs (GPT-J / Meta)
    return torch.stack([-x2, x1], dim=-1).flatten(-2)


def apply_rope(x, positions, base=10000.0):
    """Rotary position embedding, half-split convention, at the GIVEN positions.

    x        : (B, H, T, d_head) queries or keys, d_head even; may be non-contiguous.
    positions: integer tensor of shape (T,) (the same for every row) or (B, T) (one per row):
               the absolute position of each of the T tokens. Never assume it is arange(T).
    base     : b in theta_i = b ** (-2i / d_head), i = 0 .. d_head/2 - 1.
    Returns x * cos(m Theta) + rotate_half(x) * sin(m Theta), same shape and dtype as x;
    compute the angles in x's dtype (float64 in, float64 angles). x itself is not modified.
    """
    d_head = x.shape[-1]
    if d_head % 2 != 0:
        raise ValueError(f"RoPE needs an even head size, got d_head={d_head}")
    inv_freq = base ** (-torch.arange(0, d_head // 2, dtype=x.dtype, device=x.device) * 2 / d_head)
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
    angles = pos.unsqueeze(-1) * inv_freq                      # (T, d/2) or (B, T, d/2)
    angles = angles.repeat_interleave(2, dim=-1)               # [t0, t0, t1, t1, ...] for adjacent pairs
    if angles.dim() == 3:
        angles = angles.unsqueeze(1)                           # (B, 1, T, d): the same for every head
    return x * angles.cos() + rotate_half(x) * angles.sin()
