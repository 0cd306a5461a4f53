# mutant: the route check without a call log: the prefill and one-token calls run with the caches, but the logits and tokens come from the grader's stand-in GPT.forward redone by hand (0.5 * positions, no ln_f, blocks called without caches), which the call log never sees; only the planted caches tell
# replaces: kv_impl
# breaks: kv_cache
# replace:
    outs = [model(idx[:, :prompt_len], caches, start_pos=0)]
    for t in range(prompt_len, idx.shape[1]):
        outs.append(model(idx[:, t:t + 1], caches, start_pos=t))
    return torch.cat(outs, dim=1)
# with:
    model(idx[:, :prompt_len], caches, start_pos=0)              # BUG: calls for the log only
    for t in range(prompt_len, idx.shape[1]):
        model(idx[:, t:t + 1], caches, start_pos=t)
    x = model.tok_emb(idx) + 0.5 * model.pos_emb(torch.arange(idx.shape[1]))
    for block in model.blocks:
        x = block(x)                                              # BUG: no cache: its own keys/values
    return model.head(x)

# replace:
    logits = model(idx, caches, start_pos=0)
    for step in range(n_new):
        nxt = sample_next(logits[:, -1, :], temperature, top_k, generator)
        idx = torch.cat([idx, nxt[:, None]], dim=1)
        if step + 1 < n_new:
            logits = model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
    return idx
# with:
    model(idx, caches, start_pos=0)                               # BUG: calls for the log only
    for step in range(n_new):
        x = model.tok_emb(idx) + 0.5 * model.pos_emb(torch.arange(idx.shape[1]))
        for block in model.blocks:
            x = block(x)
        nxt = sample_next(model.head(x)[:, -1, :], temperature, top_k, generator)
        idx = torch.cat([idx, nxt[:, None]], dim=1)
        if step + 1 < n_new:
            model(nxt[:, None], caches, start_pos=idx.shape[1] - 1)
    return idx
