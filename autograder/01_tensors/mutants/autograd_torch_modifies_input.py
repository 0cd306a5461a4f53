# mutant: calls requires_grad_() on the caller's x: x changes and x.grad accumulates across calls
# replaces: autograd_torch_impl
# breaks: autograd_torch
# replace:
    x = x.detach().clone().requires_grad_(True)
# with:
    x.requires_grad_(True)

# replace:
    (grad,) = torch.autograd.grad(value, x)
    return value.detach(), grad
# with:
    value.backward()
    return value.detach(), x.grad.clone()
