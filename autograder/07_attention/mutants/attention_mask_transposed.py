# mutant: applies the mask transposed (mask[j, i] for query i, key j)
# replaces: attention_impl
# breaks: attention
# replace:
        scores = scores.masked_fill(~mask, float("-inf"))
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
# with:
        scores = scores.masked_fill(~mask.transpose(-2, -1), float("-inf"))   # BUG: transposed
    row_max = scores.amax(dim=-1, keepdim=True).detach()
    has_key = torch.isfinite(row_max)
