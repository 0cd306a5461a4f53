# mutant: the row maximum is taken BEFORE masking; blocked keys are removed by multiplying exp by the mask
# replaces: attention_impl
# breaks: attention
# replace:
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
    row_max = torch.where(has_key, row_max, torch.zeros_like(row_max))
    e = torch.exp(scores - row_max)                               # exp(-inf) = 0 for blocked keys
# with:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # BUG: blocked keys count in the max
    e = torch.exp(scores - row_max)
    has_key = torch.ones_like(row_max, dtype=torch.bool)
    if mask is not None:
        e = e * mask
        has_key = mask.any(dim=-1, keepdim=True).expand_as(row_max)
