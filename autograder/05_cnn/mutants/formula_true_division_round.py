# mutant: conv_output_size rounds the true division to the nearest int instead of flooring it
# replaces: formulas_impl
# breaks: conv_formulas
# replace:
    return (size + 2 * padding - kernel_size) // stride + 1
# with:
    return int(round((size + 2 * padding - kernel_size) / stride)) + 1   # BUG: round, not floor
