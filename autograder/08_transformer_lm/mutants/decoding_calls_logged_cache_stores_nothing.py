# mutant: red team "08_solution_with_fake_kv": KVCache.update stores nothing (returns the new keys/values), and incremental_logits and generate make the prefill and one-token calls only for the call log, throw their logits away and take the values from full forward passes without the caches
# replaces: kv_impl
# breaks: kv_cache
# replace:
        if self.k is None:
            self.k, self.v = k_new, v_new
        else:
            self.k = torch.cat([self.k, k_new], dim=2)
            self.v = torch.cat([self.v, v_new], dim=2)
        return self.k, self.v
# with:
        return k_new, v_new                             # BUG: NOT a cache, keeps nothing

# replace:
    outs = [model(idx[:, :prompt_len], caches, start_pos=0)]
    for t in range(prompt_len, idx.shape[1]):
        outs.append(model(idx[:, t:t + 1], caches, start_pos=t))
    return torch.cat(outs, dim=1)
# with:
    model(idx[:, :prompt_len], caches, start_pos=0)              # BUG: a "prefill" for the call log ...
    for t in range(prompt_len, idx.shape[1]):
        model(idx[:, t:t + 1], caches, start_pos=t)               # ... and "decode" calls, thrown away
    return model(idx)                                             # the logits: a full forward, no cache

# replace:
    logits = model(idx, caches, start_pos=0)
    for step in range(n_new):
        nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)
        idx = torch.cat([idx, nxt[:, None]], dim=1)
        if step + 1 < n_new:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
    return idx
# with:
    T0 = idx.shape[1]
    model(idx, caches, start_pos=0)                               # BUG: "prefill" for the call log
    for t in range(n_new):
        model(idx[:, -1:], caches, start_pos=T0 + t)              # n_new "decode" calls, thrown away
    for _ in range(n_new):                                        # the tokens: full recompute
        nxt = sample_next(model(idx)[:, -1, :], temperature, top_k, generator)
        idx = torch.cat([idx, nxt[:, None]], dim=1)
    return idx
