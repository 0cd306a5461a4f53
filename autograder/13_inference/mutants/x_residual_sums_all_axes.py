# mutant: residual_distribution normalises by the sum over the whole array: right only for one row
# replaces: step_impl
# breaks: speculative_step
# loses: 0.1 only batched calls of the helper are wrong; every single-row use inside speculative_step is right
# replace:
    z = r.sum(axis=-1, keepdims=True)
# with:
    z = r.sum()                                                      # BUG: one total for every row
