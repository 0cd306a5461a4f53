# mutant: a fully masked row gives NaN (masked_fill -inf, then a plain softmax)
# replaces: attention_impl
# breaks: attention
# replace:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
    row_max = torch.where(has_key, row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)                               # exp(-inf) = 0 for blocked keys
    denom = e.sum(dim=-1, keepdim=True)
    weights = e / torch.where(has_key, denom, torch.ones_like(denom))
# with:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # BUG: -inf for a fully masked row
    e = torch.exp(scores - row_max)                               # -inf - (-inf) = NaN
    weights = e / e.sum(dim=-1, keepdim=True)
