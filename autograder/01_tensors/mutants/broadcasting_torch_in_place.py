# mutant: right values, but subtracts the max in place and so changes the caller's x
# replaces: broadcasting_torch_impl
# breaks: broadcasting
# replace:
    z = x - x.max(dim=1, keepdim=True).values
    e = torch.exp(z)
# with:
    x -= x.max(dim=1, keepdim=True).values
    e = torch.exp(x)
