# mutant: GQA rotates the queries but not the keys (scores no longer depend on relative position)
# replaces: gqa_impl
# breaks: gqa
# replace:
        k = apply_rope(k, positions, self.rope_base)
# with:
