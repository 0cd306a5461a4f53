# mutant: wrong dtype: keeps the input's int64 / float64 instead of casting to float32
# replaces: shape_dtype_torch_impl
# breaks: shape_dtype
# replace:
    t = torch.tensor(data, dtype=torch.float32)
# with:
    t = torch.tensor(data)
