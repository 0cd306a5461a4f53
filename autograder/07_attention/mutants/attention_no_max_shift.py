# mutant: softmax without subtracting the row maximum (exp overflows / underflows for large scores)
# replaces: attention_impl
# breaks: attention
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v over the last two axes, for any leading batch axes."""
    if mask is not None and mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = attend), got {mask.dtype}")
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    e = torch.exp(scores)                                         # BUG: no max shift
    denom = e.sum(dim=-1, keepdim=True)
    has_key = (mask.any(dim=-1, keepdim=True) if mask is not None else torch.ones_like(denom, dtype=torch.bool))
    weights = e / torch.where(has_key, denom, torch.ones_like(denom))
    return weights @ v, weights
