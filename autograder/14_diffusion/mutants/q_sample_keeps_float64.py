# mutant: q_sample returns the float64 product for float32 inputs (no .to(x0.dtype)): right values, wrong dtype
# replaces: q_sample_impl
# breaks: forward_process
# loses: 0.15 the values are right; only the dtype check of float32 inputs (weight 1 of 6) fails
# replace:
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
# with:
    return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise
