# mutant: conv2d_params always adds the c_out biases, whatever bias says
# replaces: formulas_impl
# breaks: conv_formulas
# replace:
    return kh * kw * c_in * c_out + (c_out if bias else 0)
# with:
    return kh * kw * c_in * c_out + c_out                   # BUG: bias=False ignored
