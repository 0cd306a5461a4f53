# mutant: never zeroes .grad, so every step uses the sum of all gradients so far
# replaces: linear_regression_impl
# breaks: linear_regression
# replace:
        w.grad.zero_()
        b.grad.zero_()
# with:
