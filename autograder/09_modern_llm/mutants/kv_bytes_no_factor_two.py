# mutant: KV-cache size without the factor 2 (counts K only, not K and V)
# replaces: gqa_impl
# breaks: gqa
# loses: 0.2 the KV-cache size formula is one of the three functions of the gqa part (its check weighs 2 of 9)
# replace:
    return int(2 * n_layers * n_kv_heads * d_head * batch * seq_len * bytes_per_elem)
# with:
    return int(n_layers * n_kv_heads * d_head * batch * seq_len * bytes_per_elem)
