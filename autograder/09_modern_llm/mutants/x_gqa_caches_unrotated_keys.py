# mutant: GQA returns (and so caches) the new keys before RoPE; attention itself uses rotated keys
# replaces: gqa_impl
# breaks: gqa
# replace:
        k = apply_rope(k, positions, self.rope_base)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
# with:
        k_raw = k
        k = apply_rope(k, positions, self.rope_base)
        if past_kv is not None:
            k = torch.cat([past_kv[0], k], dim=2)
            k_raw = torch.cat([past_kv[0], k_raw], dim=2)
            v = torch.cat([past_kv[1], v], dim=2)
# replace:
        return self.o_proj(y), (k, v)
# with:
        return self.o_proj(y), (k_raw, v)                           # BUG: cache holds unrotated keys
