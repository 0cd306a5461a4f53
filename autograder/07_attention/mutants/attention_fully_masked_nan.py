# mutant: a fully masked row gives NaN (masked_fill -inf, then a plain softmax)
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
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # BUG: -inf for a fully masked row
    e = torch.exp(scores - row_max)                               # -inf - (-inf) = NaN
    weights = e / e.sum(dim=-1, keepdim=True)
    return weights @ v, weights
