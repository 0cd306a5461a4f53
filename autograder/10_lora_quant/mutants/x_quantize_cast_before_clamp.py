# mutant: quantize casts to the integer dtype before clamping, so out-of-range values wrap around
# replaces: quantize_impl
# breaks: quantize
# replace:
    return q.clamp(q_min, q_max).to(dtype)
# with:
    return q.to(dtype).clamp(q_min, q_max)                            # BUG: wraps before the clamp
