# mutant: the times handed to velocity_fn are built with torch.full and no dtype: a float32 t for float64 x (the notebook asks for x's dtype)
# replaces: euler_impl
# breaks: euler_sampler
# replace:
        t = torch.full((x.shape[0],), k * dt, dtype=x.dtype)
# with:
        t = torch.full((x.shape[0],), k * dt)
