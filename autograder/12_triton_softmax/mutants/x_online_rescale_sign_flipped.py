# mutant: online softmax rescales the running sum by exp(m_new - m) instead of exp(m - m_new)
# replaces: online_softmax_impl
# breaks: online_softmax
# replace:
        d = d * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
# with:
        d = d * tl.exp(m_new - m) + tl.sum(tl.exp(x - m_new), axis=0)   # BUG: factor inverted
