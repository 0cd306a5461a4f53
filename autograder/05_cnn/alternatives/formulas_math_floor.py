# alternative: the output size as the floor (np.floor) of a true division
# replaces: formulas_impl
# replace:
    if size + 2 * padding < kernel_size:
        raise ValueError(f"kernel of size {kernel_size} does not fit in an input of size {size} "
                         f"with padding {padding}")
    return (size + 2 * padding - kernel_size) // stride + 1
# with:
    span = size + 2 * padding - kernel_size
    if span < 0:
        raise ValueError(f"kernel {kernel_size} larger than the padded input {size + 2 * padding}")
    return int(np.floor(span / stride)) + 1
