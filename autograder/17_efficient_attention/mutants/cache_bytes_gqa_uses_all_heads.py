# mutant: kv_cache_bytes counts every query head for GQA instead of the n_kv_heads K/V heads
# replaces: cache_impl
# breaks: mla_cache_bytes
# loses: 0.3 GQA is one of the three non-MLA kinds in the K/V check (weight 1 of 3); the MLA check (2 of 3) still passes
# replace:
        n_kv = {"mha": cfg.get("n_heads"), "gqa": cfg.get("n_kv_heads"), "mqa": 1}[kind]
# with:
        n_kv = {"mha": cfg.get("n_heads"), "gqa": cfg.get("n_heads"), "mqa": 1}[kind]
