# mutant: detached grad: the prediction uses w.detach(), so only b ever learns (w stays 0)
# replaces: linear_regression_impl
# breaks: linear_regression
# replace:
        loss = ((X @ w + b - y) ** 2).mean()
# with:
        loss = ((X @ w.detach() + b - y) ** 2).mean()

# replace:
            w -= lr * w.grad
# with:
            if w.grad is not None:
                w -= lr * w.grad

# replace:
        w.grad.zero_()
# with:
