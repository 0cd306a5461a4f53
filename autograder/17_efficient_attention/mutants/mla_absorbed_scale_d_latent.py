# mutant: absorbed path scales the latent-space scores by 1/sqrt(d_latent) instead of 1/sqrt(d_head)
# replaces: absorb_impl
# breaks: mla_absorbed
# replace:
    scores = q_lat @ latents.transpose(-2, -1) / math.sqrt(d_head)      # (B, H, T, S)
# with:
    scores = q_lat @ latents.transpose(-2, -1) / math.sqrt(d_c)         # wrong scale
