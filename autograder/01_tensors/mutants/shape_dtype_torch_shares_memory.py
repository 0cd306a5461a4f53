# mutant: torch.as_tensor shares memory with a float32 NumPy input (changing the array changes t)
# replaces: shape_dtype_torch_impl
# breaks: shape_dtype
# replace:
    t = torch.tensor(data, dtype=torch.float32)
# with:
    t = torch.as_tensor(np.asarray(data), dtype=torch.float32)
