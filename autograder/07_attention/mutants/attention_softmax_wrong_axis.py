# mutant: softmax over the query axis (dim=-2) instead of the key axis
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
    row_max = scores.amax(dim=-2, keepdim=True).detach()
    has_key = torch.isfinite(row_max)
    row_max = torch.where(has_key, row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)
    denom = e.sum(dim=-2, keepdim=True)                           # BUG: normalises over queries
    weights = e / torch.where(has_key, denom, torch.ones_like(denom))
    return weights @ v, weights
