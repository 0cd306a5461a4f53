# mutant: Adam with eps inside the square root, sqrt(v_hat + eps)
# replaces: adam_impl
# breaks: adam
# replace:
    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
# with:
    p.sub_(lr * m_hat / (v_hat + eps).sqrt())           # BUG: eps under the root
