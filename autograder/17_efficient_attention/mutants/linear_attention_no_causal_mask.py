# mutant: parallel linear attention without the causal mask (every token sees the future); recurrent form right
# replaces: linear_impl
# breaks: linear_attention
# replace:
    A = A.masked_fill(~keep, 0.0)
# with:
