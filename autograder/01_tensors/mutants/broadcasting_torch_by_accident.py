# mutant: broadcasting by accident: the row sums lose their axis ((N, C) / (N,)), right only by luck
# replaces: broadcasting_torch_impl
# breaks: broadcasting
# replace:
    return e / e.sum(dim=1, keepdim=True)
# with:
    return e / e.sum(dim=1)
