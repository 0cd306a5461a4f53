# mutant: the running sum is not rescaled by exp(m_old - m_new) when the max grows
# replaces: online_softmax_impl
# breaks: online_softmax
@triton.jit
def softmax_online_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols,
                          BLOCK_SIZE: tl.constexpr):
    """One program per row, the row read in tiles of BLOCK_SIZE columns (BLOCK_SIZE may be < n_cols).

    Pass 1 keeps the running max m and the running sum d of exp(x - m) (rescaled when m grows);
    pass 2 writes exp(x - m) / d.
    """
    row = tl.program_id(0)
    in_row = input_ptr + row * input_row_stride
    out_row = output_ptr + row * output_row_stride
    offs = tl.arange(0, BLOCK_SIZE)
    m = tl.full([], float("-inf"), tl.float32)
    d = tl.full([], 0.0, tl.float32)
    for start in range(0, n_cols, BLOCK_SIZE):
        cols = start + offs
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        m_new = tl.maximum(m, tl.max(x, axis=0))
        d = d + tl.sum(tl.exp(x - m_new), axis=0)
        m = m_new
    for start in range(0, n_cols, BLOCK_SIZE):
        cols = start + offs
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        tl.store(out_row + cols, tl.exp(x - m) / d, mask=cols < n_cols)
