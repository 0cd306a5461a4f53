# mutant: no max subtraction: exp(x) overflows for large values
# replaces: softmax_impl
# breaks: softmax
# replace:
    z = x - tl.max(x, axis=0)
# with:
    z = x
