# mutant: the max shift uses the maximum of the WHOLE score tensor instead of each row's
# replaces: attention_impl
# breaks: attention
# replace:
    row_max = scores.amax(dim=-1, keepdim=True).detach()          # a constant shift per row
    has_key = torch.isfinite(row_max)                             # False only for fully masked rows
# with:
    row_max = scores.amax(dim=-1, keepdim=True).detach()
    has_key = torch.isfinite(row_max)
    row_max = torch.where(has_key, scores.max(), torch.zeros_like(row_max)).detach()   # BUG: global max
