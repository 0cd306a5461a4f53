# mutant: GQA detaches the keys and values it caches and attends with (k_proj and v_proj never train)
# replaces: gqa_impl
# breaks: gqa
# replace:
        k = apply_rope(k, positions, self.rope_base)
# with:
        k = apply_rope(k, positions, self.rope_base).detach()          # BUG: the cache cuts the graph
        v = v.detach()
