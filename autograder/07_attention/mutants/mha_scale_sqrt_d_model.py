# mutant: multi-head scores scaled by sqrt(d_model) instead of sqrt(d_head) (attention written inline)
# replaces: multihead_impl
# breaks: multihead
def split_heads(x, num_heads):
    """(B, T, d_model) -> (B, num_heads, T, d_head) with d_head = d_model // num_heads."""
    B, T, d_model = x.shape
    if d_model % num_heads != 0:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
    return x.reshape(B, T, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x):
    """(B, H, T, d_head) -> (B, T, H * d_head): the inverse of split_heads (x may be non-contiguous)."""
    B, H, T, d_head = x.shape
    return x.transpose(1, 2).reshape(B, T, H * d_head)


def multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads, mask=None):
    """Multi-head attention without biases."""
    d_model = x_q.shape[-1]
    q = split_heads(x_q @ w_q, num_heads)
    k = split_heads(x_kv @ w_k, num_heads)
    v = split_heads(x_kv @ w_v, num_heads)
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_model)          # BUG: should be sqrt(d_head)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0)
    return merge_heads(weights @ v) @ w_o, weights
