# mutant: no clamp before the integer cast (out-of-range codes wrap around)
# replaces: quantize_impl
# breaks: quantize
# loses: 0.25 quantize is one of the four functions checked in the quantize part (qparams, quantize, dequantize, round trip); the round trip never clamps
# replace:
    return q.clamp(q_min, q_max).to(dtype)
# with:
    return q.to(dtype)                          # BUG: no clamp, the cast wraps
