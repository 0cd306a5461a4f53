# mutant: ZeRO stage 2 also partitions the fp16 parameters (that is stage 3)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    params = BYTES_PARAM * (shard if zero_stage >= 3 else n_params)
# with:
    params = BYTES_PARAM * (shard if zero_stage >= 2 else n_params)
