# mutant: FLOPs counted as multiply-adds (MACs): the factor 2 is missing
# replaces: formulas_impl
# breaks: conv_formulas
# replace:
    return 2 * kh * kw * c_in * c_out * h_out * w_out
# with:
    return kh * kw * c_in * c_out * h_out * w_out
