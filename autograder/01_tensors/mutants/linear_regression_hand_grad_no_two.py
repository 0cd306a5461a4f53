# mutant: hand-derived gradient without the factor 2 of d/dw (r^2): half the step size
# replaces: linear_regression_impl
# breaks: linear_regression
# replace:
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
# with:
        with torch.no_grad():
            r = X @ w + b - y
            w -= lr * (X.T @ r) / len(y)
            b -= lr * r.mean()
