# mutant: dequantize subtracts the zero-point in q's integer dtype (uint8 wraps around)
# replaces: quantize_impl
# breaks: quantize
# replace:
    return (q.to(scale.dtype) - zero_point.to(scale.dtype)) * scale
# with:
    return (q - zero_point).to(scale.dtype) * scale   # BUG: integer subtraction
