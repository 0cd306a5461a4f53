# mutant: projections applied as x @ w.T (nn.Linear habit) instead of x @ w
# replaces: multihead_impl
# breaks: multihead
# replace:
    q = split_heads(x_q @ w_q, num_heads)          # (B, h, n_q, d_head)
    k = split_heads(x_kv @ w_k, num_heads)         # (B, h, n_k, d_head)
    v = split_heads(x_kv @ w_v, num_heads)         # (B, h, n_k, d_head)
# with:
    q = split_heads(x_q @ w_q.T, num_heads)
    k = split_heads(x_kv @ w_k.T, num_heads)
    v = split_heads(x_kv @ w_v.T, num_heads)
