# mutant: the running sum is not rescaled by exp(m_old - m_new) when the max grows
# replaces: online_softmax_impl
# breaks: online_softmax
# replace:
        d = d * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)
# with:
        d = d + tl.sum(tl.exp(x - m_new), axis=0)
