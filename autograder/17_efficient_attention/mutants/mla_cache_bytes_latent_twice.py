# mutant: MLA cache size counts the latent twice, as if K and V each had one (factor 2 of the MHA formula)
# replaces: cache_impl
# breaks: mla_cache_bytes
# replace:
        per_token = cfg["d_latent"] + cfg.get("d_rope", 0)             # one latent + one shared RoPE key
# with:
        per_token = 2 * cfg["d_latent"] + cfg.get("d_rope", 0)
