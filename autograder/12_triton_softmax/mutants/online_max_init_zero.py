# mutant: the online kernel starts the running max at 0 instead of -inf (all-negative rows underflow)
# replaces: online_softmax_impl
# breaks: online_softmax
# replace:
    m = tl.full([], float("-inf"), tl.float32)
# with:
    m = tl.full([], 0.0, tl.float32)                                      # BUG: max starts at 0
