# alternative: online softmax with per-lane running max and sum (a vector of BLOCK_SIZE), combined once after the loop
# replaces: online_softmax_impl
@triton.jit
def softmax_online_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols,
                          BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    offs = tl.arange(0, BLOCK_SIZE)
    m_lane = tl.full([BLOCK_SIZE], float("-inf"), tl.float32)
    d_lane = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_SIZE):
        cols = start + offs
        x = tl.load(input_ptr + row * input_row_stride + cols, mask=cols < n_cols, other=float("-inf"))
        m_new = tl.maximum(m_lane, x)
        # lanes still at -inf contribute 0 (avoid exp(-inf - -inf) = nan)
        scale = tl.where(m_new == float("-inf"), 0.0, tl.exp(m_lane - m_new))
        term = tl.where(m_new == float("-inf"), 0.0, tl.exp(x - m_new))
        d_lane = d_lane * scale + term
        m_lane = m_new
    m = tl.max(m_lane, axis=0)
    d = tl.sum(tl.where(m_lane == float("-inf"), 0.0, d_lane * tl.exp(m_lane - m)), axis=0)
    for start in range(0, n_cols, BLOCK_SIZE):
        cols = start + offs
        x = tl.load(input_ptr + row * input_row_stride + cols, mask=cols < n_cols, other=float("-inf"))
        tl.store(output_ptr + row * output_row_stride + cols, tl.exp(x - m) / d, mask=cols < n_cols)
