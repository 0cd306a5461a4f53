# mutant: q_sample uses one step's alpha_t = 1 - beta_t instead of the cumulative product alpha_bar_t
# replaces: q_sample_impl
# breaks: forward_process
def q_sample(x0, t, noise, betas):
    """Sample x_t ~ q(x_t | x0)."""
    alpha = 1.0 - betas                                                   # BUG: alpha_t, not cumprod
    a = alpha[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return (a.sqrt() * x0 + (1.0 - a).sqrt() * noise).to(x0.dtype)
