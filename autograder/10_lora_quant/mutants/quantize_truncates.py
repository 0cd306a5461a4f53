# mutant: quantize truncates toward zero (cast without round)
# replaces: quantize_impl
# breaks: quantize
# replace:
    q = torch.round(x / scale) + zero_point
# with:
    q = torch.trunc(x / scale) + zero_point                      # BUG: no rounding
