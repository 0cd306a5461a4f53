# mutant: never zeroes .grad, so every step uses the sum of all gradients so far
# replaces: linear_regression_impl
# breaks: linear_regression
def fit_linear_regression(X, y, lr, steps):
    """Full-batch gradient descent on mean((X @ w + b - y)**2) from w = 0, b = 0; returns (w, b)."""
    w = torch.zeros(X.shape[1], dtype=X.dtype, requires_grad=True)
    b = torch.zeros((), dtype=X.dtype, requires_grad=True)
    for _ in range(steps):
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.detach(), b.detach()
