# mutant: expected_tokens_per_step applies the closed form everywhere: 0 / 0 = NaN at alpha = 1 instead of gamma + 1
# replaces: tokens_impl
# breaks: expected_tokens
# replace:
    out = np.where(one, gamma + 1.0, (1.0 - safe ** (gamma + 1)) / (1.0 - safe))
# with:
    out = (1.0 - a ** (gamma + 1)) / (1.0 - a)
