# mutant: q_sample with a 1-indexed t: alpha_bar gets a leading 1, so t = 0 is clean data and every t is one step short
# replaces: q_sample_impl
# breaks: forward_process
def q_sample(x0, t, noise, betas):
    """Sample x_t ~ q(x_t | x0)."""
    alpha_bar = torch.cumprod(1.0 - betas, dim=0)
    alpha_bar = torch.cat([torch.ones(1, dtype=alpha_bar.dtype), alpha_bar])   # BUG: alpha_bar[t] = prod_{s<t}
    ab = alpha_bar[t].reshape(-1, *([1] * (x0.dim() - 1)))
    return (ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise).to(x0.dtype)
