# mutant: Adam without bias correction (m_t / sqrt(v_t) instead of m_hat / sqrt(v_hat))
# replaces: adam_impl
# breaks: adam
# replace:
    t = state["step"]
# with:

# replace:
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
# with:
    p.sub_(lr * m / (v.sqrt() + eps))                   # BUG: no 1 - beta^t
