# mutant: rf_interpolate reshapes t to (B, 1, 1, 1): broadcasts only for 4-D batches
# replaces: flow_impl
# breaks: rectified_flow
# replace:
    t = t.reshape(-1, *[1] * (x0.dim() - 1))
# with:
    t = t.view(-1, 1, 1, 1)                                          # BUG: images only
