# mutant: output size counts the padding once: floor((size - k + p) / s) + 1
# replaces: formulas_impl
# breaks: conv_formulas
# replace:
    if size + 2 * padding < kernel_size:
# with:
    if size + padding < kernel_size:

# replace:
    return (size + 2 * padding - kernel_size) // stride + 1
# with:
    return (size + padding - kernel_size) // stride + 1
