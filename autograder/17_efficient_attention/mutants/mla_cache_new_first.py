# mutant: the new latents are concatenated before the cached ones (positions scrambled when decoding)
# replaces: mla_impl
# breaks: mla_forward
# replace:
            c_kv = torch.cat([past_latent, c_kv], dim=1)                 # (B, P + T, d_latent), past first
# with:
            c_kv = torch.cat([c_kv, past_latent], dim=1)                 # (B, P + T, d_latent), past first
