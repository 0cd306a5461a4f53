# mutant: modulate broadcasts the per-sample (B, D) shift and scale without a token axis: they line up with tokens, not samples
# replaces: adaln_impl
# breaks: adaln_zero
# replace:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)
# with:
    return x * (1 + scale) + shift
