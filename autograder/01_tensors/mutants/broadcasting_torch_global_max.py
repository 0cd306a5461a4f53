# mutant: subtracts the global max instead of each row's max: rows far below it underflow to 0/0
# replaces: broadcasting_torch_impl
# breaks: broadcasting
# replace:
    z = x - x.max(dim=1, keepdim=True).values
# with:
    z = x - x.max()
