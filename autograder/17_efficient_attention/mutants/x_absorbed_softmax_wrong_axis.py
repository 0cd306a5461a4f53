# mutant: absorbed attention normalises the scores over the query axis (dim=-2) instead of the keys
# replaces: absorb_impl
# breaks: mla_absorbed
# replace:
    ctx = torch.softmax(scores, dim=-1) @ latents                       # (B, H, T, d_c)
# with:
    ctx = torch.softmax(scores, dim=-2).nan_to_num() @ latents          # BUG: softmax over queries
