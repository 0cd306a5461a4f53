# mutant: no clamp before the integer cast (out-of-range codes wrap around)
# replaces: quantize_impl
# breaks: quantize
# replace:
    return q.clamp(q_min, q_max).to(dtype)
# with:
    return q.to(dtype)                          # BUG: no clamp, the cast wraps
