# mutant: the dropout kernel keeps an element when rand < p (keeps with probability p, not 1 - p)
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
# replace:
    y = tl.where(r >= p, s / (1.0 - p), 0.0)
# with:
    y = tl.where(r < p, s / (1.0 - p), 0.0)                               # BUG: comparison reversed
