# mutant: residual_distribution divides by the sum without the p == q fallback: rows where max(0, p - q) is all zero come back NaN instead of p
# replaces: step_impl
# breaks: speculative_step
# loses: 0.1 one edge case (rows with p == q) of residual_distribution; speculative_step itself never samples such a row
# replace:
    return np.where(z > 0, r / np.where(z > 0, z, 1.0), p)
# with:
    return r / z
