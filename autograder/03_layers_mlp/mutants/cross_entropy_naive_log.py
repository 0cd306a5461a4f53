# mutant: loss as -log(softmax(z)[t]) without log-sum-exp: inf/nan for large logits
# replaces: ce_impl
# breaks: cross_entropy
# replace:
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    loss = float(np.mean(lse - logits[rows, targets]))
# with:
    e = np.exp(logits)                                 # BUG: no max shift, log of a probability
    loss = float(np.mean(-np.log(e[rows, targets] / e.sum(axis=1))))
