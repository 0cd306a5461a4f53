# mutant: RoPE writes the rotation into x in place (the caller's queries and keys change)
# replaces: rope_impl
# breaks: rope
# replace:
    return x * angles.cos() + rotate_half(x) * angles.sin()
# with:
    rotated = rotate_half(x) * angles.sin()
    return x.mul_(angles.cos()).add_(rotated)                              # BUG: modifies x
