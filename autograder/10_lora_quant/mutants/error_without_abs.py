# mutant: roundtrip_error takes the max of the signed error (x - x_hat), not of its absolute value
# replaces: error_impl
# breaks: error_bound
# replace:
    err = (x - x_hat).abs()
# with:
    err = x - x_hat                                              # BUG: signed error
