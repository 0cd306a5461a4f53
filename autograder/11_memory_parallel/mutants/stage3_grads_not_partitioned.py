# mutant: ZeRO stage 3 partitions parameters and optimizer states but forgets the gradients (stage == 2 only)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    grads = BYTES_GRAD * (shard if zero_stage >= 2 else n_params)
# with:
    grads = BYTES_GRAD * (shard if zero_stage == 2 else n_params)      # BUG: stage 3 keeps full gradients
