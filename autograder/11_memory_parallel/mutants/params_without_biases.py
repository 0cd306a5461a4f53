# mutant: parameter count without the Linear biases (attention 4h^2, MLP 2hf)
# replaces: vram_impl
# breaks: vram_calculator
# replace:
    attention = 4 * h * h + 4 * h
    mlp = 2 * h * f + f + h
# with:
    attention = 4 * h * h
    mlp = 2 * h * f
