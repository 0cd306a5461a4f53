# mutant: draft token accepted with probability min(1, q/p) instead of min(1, p/q)
# replaces: step_impl
# breaks: speculative_step
# replace:
        if rng.random() < min(1.0, p[i, x] / q[i, x]):
# with:
        with np.errstate(divide="ignore"):
            accept = min(1.0, q[i, x] / p[i, x])
        if rng.random() < accept:
