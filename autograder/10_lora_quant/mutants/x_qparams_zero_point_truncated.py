# mutant: asymmetric zero_point truncated with .int() instead of rounded
# replaces: qparams_impl
# breaks: quantize
# replace:
        zero_point = torch.round(-x_min / scale).clamp(0, 255).to(torch.int32)
# with:
        zero_point = (-x_min / scale).clamp(0, 255).to(torch.int32)   # BUG: truncates
