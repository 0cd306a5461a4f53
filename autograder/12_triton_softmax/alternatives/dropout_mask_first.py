# alternative: dropout kernel that draws the mask first and folds 1/(1-p) into the normaliser; wrapper with empty_like
# replaces: softmax_dropout_impl
@triton.jit
def softmax_dropout_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, p, seed,
                           BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_SIZE)
    inside = cols < n_cols
    keep = tl.rand(seed, row * n_cols + cols) >= p
    x = tl.load(input_ptr + row * input_row_stride + cols, mask=inside, other=float("-inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    denominator = tl.sum(e, axis=0) * (1.0 - p)
    tl.store(output_ptr + row * output_row_stride + cols, tl.where(keep, e / denominator, 0.0), mask=inside)


def softmax_dropout(x, p, seed):
    if not 0.0 <= p < 1.0:
        raise ValueError("p must be in [0, 1)")
    rows, cols = x.shape
    out = torch.empty_like(x, memory_format=torch.contiguous_format)
    softmax_dropout_kernel[(rows,)](out, x, x.stride(0), out.stride(0), cols, p, seed,
                                    BLOCK_SIZE=triton.next_power_of_2(cols))
    return out
