# mutant: asymmetric zero-point with the sign flipped: round(x_min / s)
# replaces: qparams_impl
# breaks: quantize
# replace:
        zero_point = torch.round(-x_min / scale).clamp(0, 255).to(torch.int32)
# with:
        zero_point = torch.round(x_min / scale).to(torch.int32)   # BUG: sign flipped
