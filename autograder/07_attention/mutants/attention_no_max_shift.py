# mutant: softmax without subtracting the row maximum (exp overflows / underflows for large scores)
# replaces: attention_impl
# breaks: attention
# replace:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
    row_max = torch.where(has_key, row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)                               # exp(-inf) = 0 for blocked keys
    denom = e.sum(dim=-1, keepdim=True)
# with:
    e = torch.exp(scores)                                         # BUG: no max shift
    denom = e.sum(dim=-1, keepdim=True)
    has_key = (mask.any(dim=-1, keepdim=True) if mask is not None else torch.ones_like(denom, dtype=torch.bool))
