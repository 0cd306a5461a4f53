# mutant: RoPE uses the first row's positions for every row when positions has shape (B, T)
# replaces: rope_impl
# breaks: rope
# replace:
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
# with:
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
    if pos.dim() == 2:
        pos = pos[0]                                              # BUG: "the same for every row"
