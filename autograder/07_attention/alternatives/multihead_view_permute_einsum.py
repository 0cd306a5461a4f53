# alternative: split with unflatten/permute, merge with permute/flatten, projections with einsum
# replaces: multihead_impl
def split_heads(x, num_heads):
    """(B, T, d_model) -> (B, num_heads, T, d_head) with d_head = d_model // num_heads."""
    B, T, d_model = x.shape
    if d_model % num_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
    return x.unflatten(-1, (num_heads, d_model // num_heads)).permute(0, 2, 1, 3)


def merge_heads(x):
    """(B, H, T, d_head) -> (B, T, H * d_head): the inverse of split_heads (x may be non-contiguous)."""
    B, H, T, d_head = x.shape
    return x.permute(0, 2, 1, 3).flatten(2)


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    """Multi-head attention without biases."""
    q = split_heads(torch.einsum("btd,de->bte", x_q, w_q), num_heads)
    k = split_heads(torch.einsum("btd,de->bte", x_kv, w_k), num_heads)
    v = split_heads(torch.einsum("btd,de->bte", x_kv, w_v), num_heads)
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    return torch.einsum("bte,ef->btf", merge_heads(out), w_o), weights
