# mutant: GQA repeats the kv heads before returning them as the cache (H_q heads cached: no memory saved)
# replaces: gqa_impl
# breaks: gqa
# replace:
        n_rep = self.n_heads // self.n_kv_heads
        y = causal_attention(q, repeat_kv(k, n_rep), repeat_kv(v, n_rep))
# with:
        n_rep = self.n_heads // self.n_kv_heads
        k, v = repeat_kv(k, n_rep), repeat_kv(v, n_rep)            # BUG: the repeated heads become the cache
        y = causal_attention(q, k, v)
