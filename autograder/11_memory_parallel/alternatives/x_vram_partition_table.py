# alternative: model_state_bytes from a table of which states each stage partitions; count_params summed per module
# replaces: vram_impl
# replace:
    h, f = cfg.d_model, cfg.d_ff
    attention = 4 * h * h + 4 * h
    mlp = 2 * h * f + f + h
    norms = 2 * (2 * h)
    per_layer = attention + mlp + norms
    return int(cfg.vocab_size * h + cfg.max_seq_len * h + cfg.n_layers * per_layer + 2 * h)
# with:
    h, f = cfg.d_model, cfg.d_ff
    linears = [(h, 3 * h), (h, h), (h, f), (f, h)]           # qkv, out, fc1, fc2: weight + bias
    block = sum(i * o + o for i, o in linears) + 2 * 2 * h
    return (cfg.vocab_size + cfg.max_seq_len) * h + cfg.n_layers * block + 2 * h
# replace:
    shard = shard_size(n_params, n_gpus)
    optimizer = BYTES_OPTIMIZER * (shard if zero_stage >= 1 else n_params)
    grads = BYTES_GRAD * (shard if zero_stage >= 2 else n_params)
    params = BYTES_PARAM * (shard if zero_stage >= 3 else n_params)
    return {"params": int(params), "grads": int(grads), "optimizer": int(optimizer)}
# with:
    partitioned = {0: set(), 1: {"optimizer"}, 2: {"optimizer", "grads"}, 3: {"optimizer", "grads", "params"}}[zero_stage]
    per_elem = {"params": BYTES_PARAM, "grads": BYTES_GRAD, "optimizer": BYTES_OPTIMIZER}
    return {k: per_elem[k] * (shard_size(n_params, n_gpus) if k in partitioned else int(n_params)) for k in per_elem}
