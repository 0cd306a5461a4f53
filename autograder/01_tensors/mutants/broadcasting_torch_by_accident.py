# mutant: broadcasting by accident: the row sums lose their axis ((N, C) / (N,)), right only by luck
# replaces: broadcasting_torch_impl
# breaks: broadcasting
def softmax_rows_torch(x):
    """Row-wise softmax of a (N, C) float32 torch.Tensor, computed with the row max subtracted."""
    z = x - x.max(dim=1, keepdim=True).values
    e = torch.exp(z)
    return e / e.sum(dim=1)
