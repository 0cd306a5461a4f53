# alternative: the expected tokens as the geometric series sum_j alpha^j (no special case needed at alpha = 1), acceptance via np.fmin
# replaces: tokens_impl
def acceptance_rate(p, q):
    """alpha = E_{x~q}[min(1, p(x)/q(x))] = sum_x min(p(x), q(x)) over the last axis; p, q: (..., V)."""
    return np.sum(np.fmin(p, q), axis=-1)


def expected_tokens_per_step(alpha, gamma):
    """Expected tokens per verify step with gamma draft tokens: (1 - alpha**(gamma+1)) / (1 - alpha); gamma+1 at alpha = 1."""
    a = np.asarray(alpha, dtype=np.float64)
    total = np.zeros_like(a)
    power = np.ones_like(a)
    for _ in range(gamma + 1):
        total = total + power
        power = power * a
    return total if total.ndim else float(total)
