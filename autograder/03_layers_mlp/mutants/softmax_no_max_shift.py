# mutant: softmax without subtracting the row max (exp overflows for large logits)
# replaces: softmax_impl
# breaks: softmax_jacobian
# replace:
    z = x - x.max(axis=-1, keepdims=True)
# with:
    z = x
