# mutant: scores divided by d_k instead of sqrt(d_k)
# replaces: attention_impl
# breaks: attention
# replace:
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)            # (..., n_q, n_k)
# with:
    scores = q @ k.transpose(-2, -1) / d_k                       # BUG: d_k, not sqrt(d_k)
