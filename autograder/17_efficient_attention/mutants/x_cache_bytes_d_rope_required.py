# mutant: MLA cache bytes read cfg["d_rope"] directly: a KeyError when the optional d_rope is absent
# replaces: cache_impl
# breaks: mla_cache_bytes
# replace:
        per_token = cfg["d_latent"] + cfg.get("d_rope", 0)             # one latent + one shared RoPE key
# with:
        per_token = cfg["d_latent"] + cfg["d_rope"]                     # BUG: d_rope is optional
