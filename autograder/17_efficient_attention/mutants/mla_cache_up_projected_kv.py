# mutant: the cache stores the up-projected K and V (B, S, 2*H*d_head) instead of the latents c_kv (outputs still right)
# replaces: mla_impl
# breaks: mla_forward
# replace:
        c_kv = self.kv_down(x)                                           # (B, T, d_latent)
# with:
        c_new = self.kv_down(x)
        kv = torch.cat([self.k_up(c_new), self.v_up(c_new)], dim=-1)     # cache K and V, not the latent

# replace:
            c_kv = torch.cat([past_latent, c_kv], dim=1)                 # (B, P + T, d_latent), past first
        S = c_kv.shape[1]
        q = self.q_proj(x).view(B, T, H, d_head).transpose(1, 2)         # (B, H, T, d_head)
        k = self.k_up(c_kv).view(B, S, H, d_head).transpose(1, 2)        # (B, H, S, d_head)
        v = self.v_up(c_kv).view(B, S, H, d_head).transpose(1, 2)
# with:
            kv = torch.cat([past_latent, kv], dim=1)
        S = kv.shape[1]
        q = self.q_proj(x).view(B, T, H, d_head).transpose(1, 2)
        k = kv[..., :H * d_head].reshape(B, S, H, d_head).transpose(1, 2)
        v = kv[..., H * d_head:].reshape(B, S, H, d_head).transpose(1, 2)
        c_kv = kv
