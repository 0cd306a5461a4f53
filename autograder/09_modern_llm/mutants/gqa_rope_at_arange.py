# mutant: GQA rotates q and k at arange(T) instead of the given positions (cached decode breaks)
# replaces: gqa_impl
# breaks: gqa
# replace:
        q = apply_rope(q, positions, self.rope_base)
        k = apply_rope(k, positions, self.rope_base)
# with:
        pos = torch.arange(T)                 # BUG: the new tokens are not at 0..T-1 after a cache
        q = apply_rope(q, pos, self.rope_base)
        k = apply_rope(k, pos, self.rope_base)
