# mutant: generate recomputes the whole sequence at every step without caches (right tokens, no KV cache)
# replaces: kv_impl
# breaks: kv_cache
# replace:
        if step + 1 < n_new:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
# with:
        if step + 1 < n_new:
            logits = model(idx)                                   # BUG: full recompute, cache unused
