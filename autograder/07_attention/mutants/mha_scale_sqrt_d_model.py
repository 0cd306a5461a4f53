# mutant: multi-head scores scaled by sqrt(d_model) instead of sqrt(d_head) (attention written inline)
# replaces: multihead_impl
# breaks: multihead
# replace:
    """Multi-head attention without biases.

    x_q: (B, n_q, d_model) inputs of the queries; x_kv: (B, n_k, d_model) inputs of the keys and
    values (x_kv is x_q for self-attention). w_q, w_k, w_v, w_o: (d_model, d_model), applied as x @ w.
    mask: None or a bool tensor broadcastable to (B, num_heads, n_q, n_k), True = attend.
    Returns (out, weights): out (B, n_q, d_model), weights (B, num_heads, n_q, n_k).
    Projections -> split_heads -> scaled_dot_product_attention -> merge_heads -> @ w_o.
    """
    ### BEGIN SOLUTION
    q = split_heads(x_q @ w_q, num_heads)          # (B, h, n_q, d_head)
    k = split_heads(x_kv @ w_k, num_heads)         # (B, h, n_k, d_head)
    v = split_heads(x_kv @ w_v, num_heads)         # (B, h, n_k, d_head)
    out, weights = scaled_dot_product_attention(q, k, v, mask)   # scales by sqrt(d_head)
    return merge_heads(out) @ w_o, weights
# with:
    d_model = x_q.shape[-1]
    q = split_heads(x_q @ w_q, num_heads)
    k = split_heads(x_kv @ w_k, num_heads)
    v = split_heads(x_kv @ w_v, num_heads)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_model)          # BUG: should be sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0)
    return merge_heads(weights @ v) @ w_o, weights
