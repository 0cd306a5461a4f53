# mutant: detached grad: backward runs on a detached copy, so the returned x.grad is None
# replaces: autograd_torch_impl
# breaks: autograd_torch
# replace:
    x = x.detach().clone().requires_grad_(True)
    value = f(x)
    (grad,) = torch.autograd.grad(value, x)
    return value.detach(), grad
# with:
    value = f(x.detach().requires_grad_(True))
    value.backward()
    return value.detach(), x.grad
