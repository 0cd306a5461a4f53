# alternative: residual with np.clip and a guarded np.divide, the verify step as a while loop over positions returning an int array
# replaces: step_impl
def residual_distribution(p, q):
    """norm(max(0, p - q)) over the last axis; rows where p - q has no positive part return p."""
    p = np.asarray(p, dtype=np.float64)
    r = np.clip(p - np.asarray(q, dtype=np.float64), 0.0, None)
    z = np.sum(r, axis=-1, keepdims=True)
    out = np.divide(r, z, out=np.zeros_like(r), where=z > 0)
    return np.where(z > 0, out, p)


def speculative_step(draft_tokens, q, p, rng):
    """One verify step of speculative decoding; returns the emitted tokens (1 to gamma + 1 of them)."""
    gamma = len(draft_tokens)
    V = p.shape[1]
    emitted = []
    i = 0
    while i < gamma:
        x = int(draft_tokens[i])
        u = rng.random()
        if u < min(1.0, p[i][x] / q[i][x]):
            emitted.append(x)
            i += 1
            continue
        emitted.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
        return np.array(emitted)
    emitted.append(int(rng.choice(V, p=p[gamma])))
    return np.array(emitted)
