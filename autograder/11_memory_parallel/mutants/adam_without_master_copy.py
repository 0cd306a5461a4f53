# mutant: optimizer states counted as Adam m and v only (8 bytes), forgetting the fp32 master parameters
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    optimizer = BYTES_OPTIMIZER * (shard if zero_stage >= 1 else n_params)
# with:
    optimizer = (BYTES_OPTIMIZER - 4) * (shard if zero_stage >= 1 else n_params)
