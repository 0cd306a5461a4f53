# mutant: LayerNorm centres the caller's array in place (xc = x; xc -= mu): outputs right, x changed
# replaces: layernorm_impl
# breaks: layernorm
# replace:
        xc = x - mu
# with:
        xc = x
        xc -= mu                                     # BUG: x is the caller's array
