# mutant: parallel linear attention divides by the column sums of A instead of its row sums
# replaces: linear_impl
# breaks: linear_attention
# replace:
    return (A @ v) / A.sum(dim=-1, keepdim=True)
# with:
    return (A @ v) / A.sum(dim=-2).unsqueeze(-1)                         # BUG: wrong axis
