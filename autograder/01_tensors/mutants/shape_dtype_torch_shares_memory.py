# mutant: torch.as_tensor shares memory with a float32 NumPy input (changing the array changes t)
# replaces: shape_dtype_torch_impl
# breaks: shape_dtype
def make_tensor_torch(data):
    """Return (t, rank, shape): a new float32 torch.Tensor with the values of `data`,
    its number of axes as a Python int and its shape as a tuple of Python ints."""
    t = torch.as_tensor(np.asarray(data), dtype=torch.float32)
    return t, t.dim(), tuple(t.shape)
