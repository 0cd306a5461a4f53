# mutant: repeat_kv tiles the kv heads (h % H_kv) instead of repeating each (h // n_rep)
# replaces: gqa_impl
# breaks: gqa
# replace:
    return x.repeat_interleave(n_rep, dim=1)
# with:
    return x.repeat(1, n_rep, 1, 1)          # BUG: [k0, k1, k0, k1, ...]
