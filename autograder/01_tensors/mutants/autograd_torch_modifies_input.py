# mutant: calls requires_grad_() on the caller's x: x changes and x.grad accumulates across calls
# replaces: autograd_torch_impl
# breaks: autograd_torch
def value_and_grad_torch(f, x):
    """Return (f(x), gradient of f at x) computed with torch.autograd; x is left unchanged."""
    x.requires_grad_(True)
    value = f(x)
    value.backward()
    return value.detach(), x.grad.clone()
