# alternative: einsum for the scores, blocked keys filled with the dtype's lowest finite value, torch.softmax, dead rows zeroed by a multiply
# replaces: attention_impl
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v over the last two axes, for any leading batch axes."""
    if mask is not None and mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = attend), got {mask.dtype}")
    scores = torch.einsum("...qd,...kd->...qk", q, k) * (1.0 / math.sqrt(q.shape[-1]))
    if mask is None:
        weights = torch.softmax(scores, dim=-1)
    else:
        lowest = torch.finfo(scores.dtype).min            # finite: a fully masked row gives uniform, not NaN
        weights = torch.softmax(scores.masked_fill(~mask, lowest), dim=-1)
        weights = weights * mask.any(dim=-1, keepdim=True)   # dead rows: all zero
    return torch.einsum("...qk,...kd->...qd", weights, v), weights
