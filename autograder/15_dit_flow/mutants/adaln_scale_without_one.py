# mutant: modulate as x * scale + shift instead of x * (1 + scale) + shift (still the identity at init)
# replaces: adaln_impl
# breaks: adaln_zero
# replace:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)
# with:
    return x * scale.unsqueeze(1) + shift.unsqueeze(1)
