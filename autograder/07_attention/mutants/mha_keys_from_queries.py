# mutant: keys and values projected from x_q (self-attention assumed), wrong for cross-attention
# replaces: multihead_impl
# breaks: multihead
# replace:
    k = split_heads(x_kv @ w_k, num_heads)         # (B, h, n_k, d_head)
    v = split_heads(x_kv @ w_v, num_heads)         # (B, h, n_k, d_head)
# with:
    k = split_heads(x_q @ w_k, num_heads)          # BUG: x_q instead of x_kv
    v = split_heads(x_q @ w_v, num_heads)
