# mutant: an additive -inf mask, a plain softmax, then torch.where zeroes the NaN rows: the forward pass is right, the gradient is NaN
# replaces: attention_impl
# breaks: attention
# loses: 0.5 the outputs are right; only the gradient check (half the part) sees the NaN
# replace:
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
    row_max = torch.where(has_key, row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)                               # exp(-inf) = 0 for blocked keys
    denom = e.sum(dim=-1, keepdim=True)
    weights = e / torch.where(has_key, denom, torch.ones_like(denom))
# with:
    if mask is not None:
        scores = scores + torch.zeros_like(scores).masked_fill(~mask, float("-inf"))   # additive mask
    has_key = torch.isfinite(scores.amax(dim=-1, keepdim=True))
    weights = torch.where(has_key, torch.softmax(scores, dim=-1), torch.zeros_like(scores))   # BUG: NaN gradient
