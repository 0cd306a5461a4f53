# alternative: the solution, with a comparison against torch.optim.SGD left at the end of the cell (torch.optim after tensorflow)
# replaces: linear_regression_impl
# replace:
    return w.detach(), b.detach()
# with:
    return w.detach(), b.detach()


_w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
_opt = torch.optim.SGD([_w], lr=0.1)
((_w - 1.0) ** 2).sum().backward()
_opt.step()
