# mutant: conv2d forgets to add the bias
# replaces: conv2d_impl
# breaks: conv2d
# replace:
    if bias is not None:
        out = out + bias.reshape(1, C_out, 1)
# with:
    pass                                                           # BUG: bias never added
