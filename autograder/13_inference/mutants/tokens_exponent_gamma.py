# mutant: expected tokens (1 - alpha^gamma) / (1 - alpha): the resampled / bonus token is not counted
# replaces: tokens_impl
# breaks: expected_tokens
def acceptance_rate(p, q):
    """alpha = E_{x~q}[min(1, p(x)/q(x))] = sum_x min(p(x), q(x)) over the last axis; p, q: (..., V)."""
    return np.minimum(np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)).sum(axis=-1)


def expected_tokens_per_step(alpha, gamma):
    """Expected tokens per verify step with gamma draft tokens: (1 - alpha**(gamma+1)) / (1 - alpha); gamma+1 at alpha = 1.

    alpha: a float or an array (elementwise); gamma: an int >= 0."""
    a = np.asarray(alpha, dtype=np.float64)
    one = a == 1.0
    safe = np.where(one, 0.0, a)
    out = np.where(one, float(gamma), (1.0 - safe ** gamma) / (1.0 - safe))
    return float(out) if out.ndim == 0 else out
