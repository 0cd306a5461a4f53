# mutant: pads the masked lanes of the tiles with other=0.0
# replaces: online_softmax_impl
# breaks: online_softmax
# replace:
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        m_new = tl.maximum(m, tl.max(x, axis=0))
# with:
        x = tl.load(in_row + cols, mask=cols < n_cols, other=0.0)
        m_new = tl.maximum(m, tl.max(x, axis=0))

# replace:
        x = tl.load(in_row + cols, mask=cols < n_cols, other=float("-inf"))
        tl.store(out_row + cols, tl.exp(x - m) / d, mask=cols < n_cols)
# with:
        x = tl.load(in_row + cols, mask=cols < n_cols, other=0.0)
        tl.store(out_row + cols, tl.exp(x - m) / d, mask=cols < n_cols)
