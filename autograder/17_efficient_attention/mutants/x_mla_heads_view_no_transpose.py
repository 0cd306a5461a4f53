# mutant: MLA splits the up-projected keys and values with view(B, H, S, d_head) instead of view(B, S, H, d_head).transpose(1, 2)
# replaces: mla_impl
# breaks: mla_forward
# replace:
        k = self.k_up(c_kv).view(B, S, H, d_head).transpose(1, 2)        # (B, H, S, d_head)
        v = self.v_up(c_kv).view(B, S, H, d_head).transpose(1, 2)
# with:
        k = self.k_up(c_kv).view(B, H, S, d_head)                        # BUG: mixes tokens and heads
        v = self.v_up(c_kv).view(B, H, S, d_head)
