# mutant: ZeRO shards sized n_params // n_gpus (floor, no padding) instead of ceil(n / N)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    shard = shard_size(n_params, n_gpus)
# with:
    shard = int(n_params) // int(n_gpus)                             # BUG: floor, the last elements belong to nobody
