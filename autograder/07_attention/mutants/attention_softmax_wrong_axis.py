# mutant: softmax over the query axis (dim=-2) instead of the key axis
# replaces: attention_impl
# breaks: attention
# replace:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
# with:
    row_max = scores.amax(dim=-2, keepdim=True).detach()
    has_key = torch.isfinite(row_max)

# replace:
    e = torch.exp(scores - row_max)                               # exp(-inf) = 0 for blocked keys
    denom = e.sum(dim=-1, keepdim=True)
# with:
    e = torch.exp(scores - row_max)
    denom = e.sum(dim=-2, keepdim=True)                           # BUG: normalises over queries
