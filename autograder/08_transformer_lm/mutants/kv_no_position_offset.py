# mutant: cached decode steps are fed at start_pos 0 (missing position offset)
# replaces: kv_impl
# breaks: kv_cache
# replace:
        outs.append(model(idx[:, t:t + 1], caches, start_pos=t))
# with:
        outs.append(model(idx[:, t:t + 1], caches, start_pos=0))   # BUG: no offset

# replace:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
# with:
            logits = model(nxt[:, None], caches, start_pos=0)   # BUG: no offset
