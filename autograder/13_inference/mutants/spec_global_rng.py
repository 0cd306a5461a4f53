# mutant: the acceptance test draws from NumPy's global generator instead of the rng argument: same distribution, but two runs with the same seeded rng differ
# replaces: step_impl
# breaks: speculative_step
# replace:
        if rng.random() < min(1.0, p[i, x] / q[i, x]):
# with:
        if np.random.random() < min(1.0, p[i, x] / q[i, x]):
