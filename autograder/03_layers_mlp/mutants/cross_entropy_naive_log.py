# mutant: loss as -log(softmax(z)[t]) without log-sum-exp: inf/nan for large logits
# replaces: ce_impl
# breaks: cross_entropy
def cross_entropy(logits, targets):
    """Mean cross-entropy of integer class targets under softmax(logits), and its gradient.

    logits : (N, C) floats; targets : (N,) ints in [0, C)
    returns (loss, dlogits): loss = mean_n( logsumexp(logits[n]) - logits[n, targets[n]] ) as a float,
            dlogits = (softmax(logits) - onehot(targets)) / N, shape (N, C).
    Must stay finite for logits of any magnitude (log-sum-exp with the row max).
    """
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    n = logits.shape[0]
    rows = np.arange(n)
    e = np.exp(logits)                                 # BUG: no max shift, log of a probability
    loss = float(np.mean(-np.log(e[rows, targets] / e.sum(axis=1))))
    grad = softmax(logits)
    grad[rows, targets] -= 1.0
    return loss, grad / n
