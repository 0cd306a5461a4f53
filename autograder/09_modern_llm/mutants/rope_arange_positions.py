# mutant: RoPE ignores the given positions and rotates by arange(T)
# replaces: rope_impl
# breaks: rope
# replace:
    pos = torch.as_tensor(positions, device=x.device).to(x.dtype)
# with:
    pos = torch.arange(x.shape[-2], device=x.device).to(x.dtype)    # BUG: assumes positions 0..T-1
