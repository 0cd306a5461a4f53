# mutant: count_params adds a separate LM head although the notebook ties it to the token embedding
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    return int(cfg.vocab_size * h + cfg.max_seq_len * h + cfg.n_layers * per_layer + 2 * h)
# with:
    return int(2 * cfg.vocab_size * h + cfg.max_seq_len * h + cfg.n_layers * per_layer + 2 * h)   # BUG: untied head
