# mutant: wrong dtype: keeps the input's int64 / float64 instead of casting to float32
# replaces: shape_dtype_torch_impl
# breaks: shape_dtype
def make_tensor_torch(data):
    """Return (t, rank, shape): a new float32 torch.Tensor with the values of `data`,
    its number of axes as a Python int and its shape as a tuple of Python ints."""
    t = torch.tensor(data)
    return t, t.dim(), tuple(t.shape)
