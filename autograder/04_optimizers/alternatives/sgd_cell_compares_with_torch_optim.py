# alternative: the solution, with a comparison against torch.optim.SGD left at the end of the cell (torch.optim after tensorflow)
# replaces: sgd_impl
# replace:
    p.add_(d_p, alpha=-lr)
# with:
    p.add_(d_p, alpha=-lr)


_p = torch.tensor([1.0, -2.0], requires_grad=True)
_opt = torch.optim.SGD([_p], lr=0.1, momentum=0.9)
(_p ** 2).sum().backward()
_opt.step()
