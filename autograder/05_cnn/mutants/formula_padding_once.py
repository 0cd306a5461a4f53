# mutant: output size counts the padding once: floor((size - k + p) / s) + 1
# replaces: formulas_impl
# breaks: conv_formulas
def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length along ONE spatial axis: floor((size - kernel_size + 2*padding) / stride) + 1.

    All arguments are ints. Returns an int.
    Raises ValueError when the kernel does not fit in the padded input (size + 2*padding < kernel_size).
    """
    if size + padding < kernel_size:
        raise ValueError(f"kernel of size {kernel_size} does not fit in an input of size {size} "
                         f"with padding {padding}")
    return (size + padding - kernel_size) // stride + 1


def conv2d_params(c_in, c_out, kernel_size, bias=True):
    """Number of learnable parameters of nn.Conv2d(c_in, c_out, kernel_size, bias=bias).

    kernel_size: int or (kh, kw). Returns an int:  kh * kw * c_in * c_out (+ c_out with a bias).
    """
    kh, kw = pair(kernel_size)
    return kh * kw * c_in * c_out + (c_out if bias else 0)


def conv2d_flops(c_in, c_out, kernel_size, out_size):
    """FLOPs of one conv2d forward pass for ONE image: 2 * kh * kw * c_in * c_out * h_out * w_out.

    A multiply and an add per weight and output element; the bias is not counted.
    kernel_size and out_size = (h_out, w_out): int or pair. Returns an int.
    """
    kh, kw = pair(kernel_size)
    h_out, w_out = pair(out_size)
    return 2 * kh * kw * c_in * c_out * h_out * w_out
