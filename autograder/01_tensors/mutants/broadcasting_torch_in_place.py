# mutant: right values, but subtracts the max in place and so changes the caller's x
# replaces: broadcasting_torch_impl
# breaks: broadcasting
def softmax_rows_torch(x):
    """Row-wise softmax of a (N, C) float32 torch.Tensor, computed with the row max subtracted."""
    x -= x.max(dim=1, keepdim=True).values
    e = torch.exp(x)
    return e / e.sum(dim=1, keepdim=True)
