# mutant: scales q in place (q /= sqrt(d_k)): right result, but the caller's q is changed
# replaces: attention_impl
# breaks: attention
# replace:
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)            # (..., n_q, n_k)
# with:
    with torch.no_grad():
        q /= math.sqrt(d_k)                                       # BUG: modifies the input
    scores = q @ k.transpose(-2, -1)
