# mutant: expected tokens (1 - alpha^gamma) / (1 - alpha): the resampled / bonus token is not counted
# replaces: tokens_impl
# breaks: expected_tokens
# replace:
    out = np.where(one, gamma + 1.0, (1.0 - safe ** (gamma + 1)) / (1.0 - safe))
# with:
    out = np.where(one, float(gamma), (1.0 - safe ** gamma) / (1.0 - safe))
