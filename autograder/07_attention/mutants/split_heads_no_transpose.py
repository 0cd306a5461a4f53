# mutant: split_heads reshapes straight to (B, H, T, d_head) without the transpose (mixes tokens)
# replaces: multihead_impl
# breaks: multihead
def split_heads(x, num_heads):
    """(B, T, d_model) -> (B, num_heads, T, d_head) with d_head = d_model // num_heads."""
    B, T, d_model = x.shape
    if d_model % num_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
    return x.reshape(B, num_heads, T, d_model // num_heads)           # BUG: no transpose


def merge_heads(x):
    """(B, H, T, d_head) -> (B, T, H * d_head)."""
    B, H, T, d_head = x.shape
    return x.reshape(B, T, H * d_head)                                  # consistent with the split above


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    """Multi-head attention without biases."""
    q = split_heads(x_q @ w_q, num_heads)
    k = split_heads(x_kv @ w_k, num_heads)
    v = split_heads(x_kv @ w_v, num_heads)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    return merge_heads(out) @ w_o, weights
