# mutant: the online kernel's loops stop before a last, partial tile
# replaces: online_softmax_impl
# breaks: online_softmax
# replace:
    for start in range(0, n_cols, BLOCK_SIZE):
        cols = start + offs
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        m_new = tl.maximum(m, tl.max(x, axis=0))
# with:
    for start in range(0, n_cols - BLOCK_SIZE + 1, BLOCK_SIZE):           # BUG: the partial tile is skipped
        cols = start + offs
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        m_new = tl.maximum(m, tl.max(x, axis=0))
