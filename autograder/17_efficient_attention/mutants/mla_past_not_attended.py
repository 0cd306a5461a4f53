# mutant: the forward attends only to the new tokens' latents; the past latents are appended to the returned cache but never read
# replaces: mla_impl
# breaks: mla_forward
# replace:
        c_kv = self.kv_down(x)                                           # (B, T, d_latent)
        if past_latent is not None:
            c_kv = torch.cat([past_latent, c_kv], dim=1)                 # (B, P + T, d_latent), past first
        S = c_kv.shape[1]
# with:
        new = self.kv_down(x)
        c_kv = new if past_latent is None else torch.cat([past_latent, new], dim=1)
        S = T
# replace:
        k = self.k_up(c_kv).view(B, S, H, d_head).transpose(1, 2)        # (B, H, S, d_head)
        v = self.v_up(c_kv).view(B, S, H, d_head).transpose(1, 2)
# with:
        k = self.k_up(new).view(B, S, H, d_head).transpose(1, 2)
        v = self.v_up(new).view(B, S, H, d_head).transpose(1, 2)
