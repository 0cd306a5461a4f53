# mutant: kept values are not scaled by 1 / (1 - p)
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    y = tl.where(r >= p, s / (1.0 - p), 0.0)
# with:
    y = tl.where(r >= p, s, 0.0)
