# alternative: speculative step that draws all gamma uniforms first and finds the first rejection vectorised
# replaces: step_impl
# replace:
    gamma, V = len(draft_tokens), p.shape[-1]
    out = []
    for i in range(gamma):
        x = int(draft_tokens[i])
        if rng.random() < min(1.0, p[i, x] / q[i, x]):
            out.append(x)
        else:
            out.append(int(rng.choice(V, p=residual_distribution(p[i], q[i]))))
            return out
    out.append(int(rng.choice(V, p=p[gamma])))
    return out
# with:
    draft = np.asarray(draft_tokens, dtype=np.int64)
    gamma, V = len(draft), p.shape[-1]
    rows = np.arange(gamma)
    ratio = np.minimum(1.0, p[rows, draft] / q[rows, draft])
    u = rng.random(gamma)
    rejected = np.flatnonzero(u >= ratio)
    if rejected.size:
        j = int(rejected[0])
        return [int(t) for t in draft[:j]] + [int(rng.choice(V, p=residual_distribution(p[j], q[j])))]
    return [int(t) for t in draft] + [int(rng.choice(V, p=p[gamma]))]
