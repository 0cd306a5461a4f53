# mutant: activation memory without the 5as^2b attention-score term (softmax, its dropout mask and output)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    per_layer = 18 * s * b * h + 4 * s * b * f + 5 * a * s * s * b
# with:
    per_layer = 18 * s * b * h + 4 * s * b * f
