# mutant: random offsets use the column only: every row gets the same mask
# replaces: softmax_dropout_impl
# breaks: softmax_dropout
@triton.jit
def softmax_dropout_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, p, seed,
                           BLOCK_SIZE: tl.constexpr):
    """One program per row: softmax of the row, then inverted dropout with drop probability p.

    Element (row, col) is kept when tl.rand(seed, row * n_cols + col) >= p and is then scaled by 1 / (1 - p).
    """
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK_SIZE)
    mask = offs < n_cols
    x = tl.load(input_ptr + row * input_row_stride + offs, mask=mask, other=float("-inf"))
    z = x - tl.max(x, axis=0)
    numerator = tl.exp(z)
    s = numerator / tl.sum(numerator, axis=0)
    r = tl.rand(seed, offs)
    y = tl.where(r >= p, s / (1.0 - p), 0.0)
    tl.store(output_ptr + row * output_row_stride + offs, y, mask=mask)


def softmax_dropout(x, p, seed):
    """softmax(x) along rows followed by dropout(p), in one kernel launch; same seed -> same mask.

    x: 2-D float32 tensor with contiguous columns; 0 <= p < 1; seed: int. Returns a new tensor.
    """
    assert 0.0 <= p < 1.0, "p must be in [0, 1)"
    assert x.ndim == 2 and x.stride(1) == 1, "softmax_dropout expects a 2-D tensor with contiguous columns"
    n_rows, n_cols = x.shape
    y = torch.empty((n_rows, n_cols), dtype=x.dtype, device=x.device)
    block = triton.next_power_of_2(n_cols)
    softmax_dropout_kernel[(n_rows,)](y, x, x.stride(0), y.stride(0), n_cols, p, seed, BLOCK_SIZE=block)
    return y
