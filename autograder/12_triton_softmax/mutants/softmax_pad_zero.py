# mutant: pads the masked lanes with other=0.0 instead of -inf
# replaces: softmax_impl
# breaks: softmax
@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    """One program per row: output[row, :n_cols] = softmax(input[row, :n_cols]).

    input_row_stride, output_row_stride: elements from the start of one row to the next (x.stride(0));
    columns are contiguous. BLOCK_SIZE: a power of 2 >= n_cols, so one block holds the whole row.
    """
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK_SIZE)
    mask = offs < n_cols
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=0.0)
    z = x - tl.max(x, axis=0)
    numerator = tl.exp(z)
    y = numerator / tl.sum(numerator, axis=0)
    tl.store(output_ptr + row * output_row_stride + offs, y, mask=mask)


def softmax(x):
    """Row softmax of a 2-D float32 tensor x (contiguous columns, any row stride) with softmax_kernel.

    Returns a new tensor of x's shape, dtype and device; x is not modified.
    """
    assert x.ndim == 2 and x.stride(1) == 1, "softmax expects a 2-D tensor with contiguous columns"
    n_rows, n_cols = x.shape
    y = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    block = triton.next_power_of_2(n_cols)
    softmax_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, BLOCK_SIZE=block)
    return y
