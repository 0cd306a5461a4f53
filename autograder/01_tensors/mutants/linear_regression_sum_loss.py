# mutant: fit_linear_regression descends on the summed squared error instead of its mean (steps N times too big)
# replaces: linear_regression_impl
# breaks: linear_regression
# replace:
        loss = ((X @ w + b - y) ** 2).mean()
# with:
        loss = ((X @ w + b - y) ** 2).sum()
