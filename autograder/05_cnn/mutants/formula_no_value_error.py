# mutant: conv_output_size never refuses a kernel that does not fit (returns 0 or a negative size)
# replaces: formulas_impl
# breaks: conv_formulas
# replace:
    if size + 2 * padding < kernel_size:
        raise ValueError(f"kernel of size {kernel_size} does not fit in an input of size {size} "
                         f"with padding {padding}")
    return (size + 2 * padding - kernel_size) // stride + 1
# with:
    return (size + 2 * padding - kernel_size) // stride + 1   # BUG: no ValueError
