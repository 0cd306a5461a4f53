# alternative: expected tokens as the geometric sum 1 + alpha + ... + alpha**gamma (no special case at alpha = 1)
# replaces: tokens_impl
# replace:
    a = np.asarray(alpha, dtype=np.float64)
    one = a == 1.0
    safe = np.where(one, 0.0, a)
    out = np.where(one, gamma + 1.0, (1.0 - safe ** (gamma + 1)) / (1.0 - safe))
    return float(out) if out.ndim == 0 else out
# with:
    a = np.asarray(alpha, dtype=np.float64)
    out = sum(a ** k for k in range(int(gamma) + 1)) + np.zeros_like(a)
    return float(out) if np.ndim(out) == 0 else out
