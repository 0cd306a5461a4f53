# mutant: q_sample without the square roots: alpha_bar * x0 + (1 - alpha_bar) * noise
# replaces: q_sample_impl
# breaks: forward_process
def q_sample(x0, t, noise, betas):
    """Sample x_t ~ q(x_t | x0)."""
    alpha_bar = torch.cumprod(1.0 - betas, dim=0)
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return (ab * x0 + (1.0 - ab) * noise).to(x0.dtype)                    # BUG: sqrt missing on both coefficients
