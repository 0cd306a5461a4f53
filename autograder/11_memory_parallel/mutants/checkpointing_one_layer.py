# mutant: with activation checkpointing only one block input is counted (the n_layers factor is lost)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
        return int(L * 2 * s * b * h)
# with:
        return int(2 * s * b * h)                                       # BUG: one layer, not L
