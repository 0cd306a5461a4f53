# mutant: no bonus token from p[gamma] when every draft token is accepted
# replaces: step_impl
# breaks: speculative_step
def residual_distribution(p, q):
    """norm(max(0, p - q)) over the last axis; rows where p - q has no positive part return p."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    r = np.maximum(p - q, 0.0)
    z = r.sum(axis=-1, keepdims=True)
    return np.where(z > 0, r / np.where(z > 0, z, 1.0), p)


def speculative_step(draft_tokens, q, p, rng):
    """One verify step of speculative decoding; returns the emitted tokens (1 to gamma + 1 of them).

    draft_tokens: (gamma,) ints drawn from the rows of q; q: (gamma, V) draft distributions;
    p: (gamma + 1, V) target distributions; rng: np.random.Generator, the only source of randomness."""
    gamma, V = len(draft_tokens), p.shape[-1]
    out = []
    for i in range(gamma):
        x = int(draft_tokens[i])
        if rng.random() < min(1.0, p[i, x] / q[i, x]):
            out.append(x)
        else:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
            return out
    return out
