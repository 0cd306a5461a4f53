# mutant: softmax over all keys, then the blocked weights are zeroed without renormalising the row
# replaces: attention_impl
# breaks: attention
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
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights * mask                                  # BUG: rows no longer sum to 1
