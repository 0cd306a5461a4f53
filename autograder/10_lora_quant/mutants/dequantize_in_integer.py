# mutant: dequantize subtracts the zero-point in q's integer dtype (uint8 wraps around)
# replaces: quantize_impl
# breaks: quantize
def quantize(x, scale, zero_point, mode):
    """clamp(round(x / scale) + zero_point, q_min, q_max) as torch.int8 ("symmetric", [-128, 127])
    or torch.uint8 ("asymmetric", [0, 255]). scale / zero_point broadcast against x."""
    if mode not in ("symmetric", "asymmetric"):
        raise ValueError(f"mode must be 'symmetric' or 'asymmetric', got {mode!r}")
    q_min, q_max, dtype = (-128, 127, torch.int8) if mode == "symmetric" else (0, 255, torch.uint8)
    q = torch.round(x / scale) + zero_point
    return q.clamp(q_min, q_max).to(dtype)


def dequantize(q, scale, zero_point):
    """scale * (q - zero_point), computed in scale's (float) dtype, never in q's integer dtype."""
    return (q - zero_point).to(scale.dtype) * scale   # BUG: integer subtraction
