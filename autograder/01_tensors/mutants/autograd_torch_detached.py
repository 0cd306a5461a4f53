# mutant: detached grad: backward runs on a detached copy, so the returned x.grad is None
# replaces: autograd_torch_impl
# breaks: autograd_torch
def value_and_grad_torch(f, x):
    """Return (f(x), gradient of f at x) computed with torch.autograd; x is left unchanged."""
    value = f(x.detach().requires_grad_(True))
    value.backward()
    return value.detach(), x.grad
