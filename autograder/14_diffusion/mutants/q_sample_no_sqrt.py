# mutant: q_sample without the square roots: alpha_bar * x0 + (1 - alpha_bar) * noise
# replaces: q_sample_impl
# breaks: forward_process
# replace:
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))             # (B, 1, ..., 1)
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
# with:
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return (ab * x0 + (1.0 - ab) * noise).to(x0.dtype)                    # BUG: sqrt missing on both coefficients
