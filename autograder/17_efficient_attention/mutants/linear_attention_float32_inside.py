# mutant: the parallel form computes in float32 (a .float() on the scores and values): float64 inputs come back as a float32 tensor
# replaces: linear_impl
# breaks: linear_attention
# replace:
    return (A @ v) / A.sum(dim=-1, keepdim=True)
# with:
    A = A.float()
    return (A @ v.float()) / A.sum(dim=-1, keepdim=True)
