# mutant: activation_bytes counts the MLP's hidden activations with d_model instead of d_ff (4*s*b*h)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    per_layer = 18 * s * b * h + 4 * s * b * f + 5 * a * s * s * b
# with:
    per_layer = 18 * s * b * h + 4 * s * b * h + 5 * a * s * s * b   # BUG: h where the MLP width f belongs
