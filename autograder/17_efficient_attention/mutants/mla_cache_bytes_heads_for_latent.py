# mutant: MLA cache size multiplies the latent by the number of heads (the latent is shared by all heads)
# replaces: cache_impl
# breaks: mla_cache_bytes
def kv_cache_bytes(cfg, batch, seq_len, bytes_per_elem=2):
    """Bytes of the KV cache of a model described by cfg, for `batch` sequences of `seq_len` tokens.

    cfg["kind"] is "mha", "gqa", "mqa" or "mla"; cfg["n_layers"] always; "n_heads", "n_kv_heads",
    "d_head" for the K/V caches; "d_latent" and optionally "d_rope" (default 0) for MLA.
    Returns a Python int."""
    kind = cfg["kind"]
    if kind not in ("mha", "gqa", "mqa", "mla"):
        raise ValueError(f"unknown attention kind {kind!r}")
    if kind == "mla":
        per_token = cfg["n_heads"] * (cfg["d_latent"] + cfg.get("d_rope", 0))
    else:
        n_kv = {"mha": cfg.get("n_heads"), "gqa": cfg.get("n_kv_heads"), "mqa": 1}[kind]
        per_token = 2 * n_kv * cfg["d_head"]                            # K and V of every cached head
    return int(cfg["n_layers"] * per_token * batch * seq_len * bytes_per_elem)
