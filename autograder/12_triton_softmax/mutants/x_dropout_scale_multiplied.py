# mutant: inverted dropout multiplies kept values by (1 - p) instead of dividing
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    y = tl.where(r >= p, s / (1.0 - p), 0.0)
# with:
    y = tl.where(r >= p, s * (1.0 - p), 0.0)                          # BUG: scales down, not up
