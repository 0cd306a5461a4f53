# mutant: the 08 red team's pattern: roundtrip_error calls quantize and dequantize only for the call log and takes x_hat from its own inline round-to-nearest quantizer; the stand-ins' values (floor, mid-step) are what is graded, so the log alone earns nothing
# replaces: error_impl
# breaks: error_bound
# replace:
    x_hat = dequantize(quantize(x, scale, zero_point, mode), scale, zero_point)
# with:
    dequantize(quantize(x, scale, zero_point, mode), scale, zero_point)   # BUG: for the call log only
    q_min, q_max = (-128, 127) if mode == "symmetric" else (0, 255)
    q = (torch.round(x / scale) + zero_point).clamp(q_min, q_max)
    x_hat = (q - zero_point) * scale
