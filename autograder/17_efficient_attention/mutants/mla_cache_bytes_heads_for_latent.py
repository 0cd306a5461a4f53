# mutant: MLA cache size multiplies the latent by the number of heads (the latent is shared by all heads)
# replaces: cache_impl
# breaks: mla_cache_bytes
# replace:
        per_token = cfg["d_latent"] + cfg.get("d_rope", 0)             # one latent + one shared RoPE key
# with:
        per_token = cfg["n_heads"] * (cfg["d_latent"] + cfg.get("d_rope", 0))
