# alternative: computes in float64, one row at a time with an explicit log-sum-exp, and casts back to q's dtype
# replaces: attention_impl
def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d_k)) v over the last two axes, for any leading batch axes."""
    if mask is not None and mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = attend), got {mask.dtype}")
    q64, k64, v64 = q.double(), k.double(), v.double()
    scores = (q64 @ k64.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    allowed = torch.ones_like(scores, dtype=torch.bool) if mask is None else mask.expand_as(scores)
    rows = []
    for i in range(scores.shape[-2]):                      # one query row at a time
        s, a = scores[..., i, :], allowed[..., i, :]
        top = torch.where(a, s, torch.full_like(s, -math.inf)).amax(dim=-1, keepdim=True)
        top = torch.where(torch.isfinite(top), top, torch.zeros_like(top)).detach()
        e = torch.where(a, torch.exp(torch.where(a, s - top, torch.zeros_like(s))), torch.zeros_like(s))
        total = e.sum(dim=-1, keepdim=True)
        rows.append(e / torch.where(total > 0, total, torch.ones_like(total)))
    weights = torch.stack(rows, dim=-2)
    return (weights @ v64).to(q.dtype), weights.to(q.dtype)
