# mutant: the parallel form forgets to divide each row by its sum (unnormalised linear attention)
# replaces: linear_impl
# breaks: linear_attention
# replace:
    return (A @ v) / A.sum(dim=-1, keepdim=True)
# with:
    return A @ v
